package httpapi

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

// linkedDrive is a merchant linked to a Drive partner app through the
// connect flow: the exchange's drv_ key and the merchant's session.
type linkedDrive struct {
	app       partnerApp
	profileID string
	key       reqOpt // the key minted for the link
	session   reqOpt
}

func (s *testServer) linkDriveApp() linkedDrive {
	s.t.Helper()
	app := s.createApp("drive", callback)
	m := s.connectMerchant(app, callback, "drive-state")
	ex := s.exchangeCode(app.clientID, app.secret, m.code)
	require.Equal(s.t, http.StatusOK, ex.status, "body: %s", ex.body)
	return linkedDrive{
		app: app, profileID: m.profileID, key: withKey(ex.json(s.t)["driveApiKey"].(string)),
		session: withSession(m.session),
	}
}

func TestDriveAppFolders(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})
		l := s.linkDriveApp()
		key, sess := l.key, l.session
		viaApp := withHeader(IntegrationHeader, l.app.clientID)
		readOnly := func(r reply) {
			t.Helper()
			r.requireError(t, http.StatusForbidden, "app_folder_read_only", "")
		}

		// Uploads with the header, or integrationClientId in the body, go
		// to a top-level folder named after the app, made on first use.
		f1 := s.mustDriveUpload("", "export.csv", []byte("a,b"), key, viaApp)
		appFolder, _ := f1["parentId"].(string)
		require.NotEmpty(t, appFolder, "body: %v", f1)
		require.Equal(t, true, f1["inIntegrationAppFolder"])
		af := s.driveItem(key, core.DriveFolderKind, appFolder)
		require.Equal(t, "Shopline drive", af["name"])
		require.Nil(t, af["parentId"])
		require.Equal(t, l.app.id, af["integrationAppId"])
		require.Equal(t, true, af["inIntegrationAppFolder"])
		_, f2 := s.drivePresigned("", "photo.jpg", "image/jpeg", []byte("jpeg"), map[string]any{"integrationClientId": l.app.clientID}, key)
		require.Equal(t, appFolder, f2["parentId"])
		require.Equal(t, true, f2["inIntegrationAppFolder"])
		_, f3 := s.drivePresigned("", "photo.jpg", "image/jpeg", []byte("jpeg 2"), nil, key, viaApp)
		require.Equal(t, appFolder, f3["parentId"])
		require.Equal(t, "photo (1).jpg", f3["name"])
		both := map[string]any{"integrationClientId": l.app.clientID}
		_, f4 := s.drivePresigned("", "both.jpg", "image/jpeg", []byte("both"), both, key, viaApp)
		require.Equal(t, appFolder, f4["parentId"])

		// Listings: the key always sees the app's folder at the root; the
		// browser only with includeIntegrationAppFolders=1.
		mine := s.mkFolder(sess, "Mine", "")["id"].(string)
		folders, _ := s.driveListing("", key)
		require.Equal(t, []string{"Mine", "Shopline drive"}, folders)
		folders, _ = s.driveListing("?includeIntegrationAppFolders=0", key)
		require.Equal(t, []string{"Mine", "Shopline drive"}, folders)
		folders, _ = s.driveListing("", sess)
		require.Equal(t, []string{"Mine"}, folders)
		for _, q := range []string{"?includeIntegrationAppFolders=1", "?includeIntegrationAppFolders=true"} {
			folders, _ = s.driveListing(q, sess)
			require.Equal(t, []string{"Mine", "Shopline drive"}, folders)
		}
		// The browser reads the app's tree.
		r := s.do("GET", "/api/drive?parentId="+appFolder, nil, sess)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		for _, f := range r.json(t)["files"].([]any) {
			require.Equal(t, true, f.(map[string]any)["inIntegrationAppFolder"])
		}
		require.Len(t, r.json(t)["files"], 4)
		require.Equal(t, true, s.driveItem(sess, core.DriveFileKind, f1["id"].(string))["inIntegrationAppFolder"])
		require.Equal(t, http.StatusOK, s.do("GET", driveMediaPath(t, f1), nil).status)

		t.Run("the_browser_cannot_change_it", func(t *testing.T) {
			file := f1["id"].(string)
			readOnly(s.do("PATCH", itemURL(core.DriveFolderKind, appFolder), map[string]any{"name": "Mine now"}, sess))
			readOnly(s.do("PATCH", itemURL(core.DriveFolderKind, appFolder), map[string]any{"targetFolderId": mine}, sess))
			readOnly(s.do("PATCH", itemURL(core.DriveFileKind, file), map[string]any{"name": "x.csv"}, sess))
			readOnly(s.do("PATCH", itemURL(core.DriveFileKind, file), map[string]any{"targetFolderId": nil}, sess))
			readOnly(s.do("PATCH", itemURL(core.DriveFolderKind, mine), map[string]any{"targetFolderId": appFolder}, sess))
			readOnly(s.do("DELETE", itemURL(core.DriveFolderKind, appFolder), nil, sess))
			readOnly(s.do("DELETE", itemURL(core.DriveFileKind, file), nil, sess))
			readOnly(s.do("POST", "/api/drive", map[string]any{"name": "New", "parentId": appFolder}, sess))
			readOnly(s.driveUpload(appFolder, "b.txt", []byte("b"), sess))
			readOnly(s.driveUpload("", "b.txt", []byte("b"), sess, viaApp))
			readOnly(s.do("POST", "/api/drive/upload/presign", drivePresignBody(appFolder, "b.txt", "text/plain", 1, nil), sess))
			readOnly(s.do("POST", "/api/drive/upload/presign", drivePresignBody("", "b.txt", "text/plain", 1, both), sess))
			require.Equal(t, "export.csv", s.driveItem(key, core.DriveFileKind, file)["name"], "unchanged")
			require.Equal(t, false, s.driveItem(key, core.DriveFolderKind, appFolder)["trashed"])
		})

		var sub string
		t.Run("the_key_may", func(t *testing.T) {
			sf := s.mkFolder(key, "Reports", appFolder)
			sub = sf["id"].(string)
			require.Equal(t, true, sf["inIntegrationAppFolder"])
			require.Nil(t, sf["integrationAppId"], "only the top folder is the app's")
			m := s.do("PATCH", itemURL(core.DriveFileKind, f1["id"].(string)), map[string]any{"name": "q1.csv", "targetFolderId": sub}, key)
			require.Equal(t, http.StatusOK, m.status, "body: %s", m.body)
			require.Equal(t, true, m.json(t)["inIntegrationAppFolder"])
			in := s.mustDriveUpload(sub, "q2.csv", []byte("q2"), key, viaApp)
			require.Equal(t, sub, in["parentId"])
			require.Equal(t, true, in["inIntegrationAppFolder"])
			plain := s.mustDriveUpload(appFolder, "plain.txt", []byte("plain"), key)
			require.Equal(t, appFolder, plain["parentId"])
			require.Equal(t, true, plain["inIntegrationAppFolder"], "it lies in the app's folder all the same")
			// The form may name the app instead of the header.
			ct, body := multipartUpload(t, map[string]string{"integrationClientId": l.app.clientID, "folderId": sub}, "form.csv", []byte("form"))
			r := s.rawDoC("POST", "/api/drive/upload", ct, body, key)
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			require.Equal(t, sub, r.json(t)["parentId"])
			// With the app's id, folderId must lie in its folder.
			s.driveUpload(mine, "x.txt", []byte("x"), key, viaApp).requireError(t, http.StatusBadRequest, "invalid_request", "folderId")
			s.do("POST", "/api/drive/upload/presign", drivePresignBody(mine, "x.txt", "text/plain", 1, both), key).
				requireError(t, http.StatusBadRequest, "invalid_request", "folderId")
			folders, _ := s.driveListing("?parentId="+appFolder, sess)
			require.Equal(t, []string{"Reports"}, folders)
			// The app's folder stays at the top level.
			s.do("PATCH", itemURL(core.DriveFolderKind, appFolder), map[string]any{"targetFolderId": mine}, key).
				requireError(t, http.StatusBadRequest, "invalid_request", "targetFolderId")
			r = s.do("PATCH", itemURL(core.DriveFolderKind, appFolder), map[string]any{"targetFolderId": nil, "name": "Shopline exports"}, key)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			require.Equal(t, l.app.id, r.json(t)["integrationAppId"])
			r = s.do("PATCH", itemURL(core.DriveFolderKind, appFolder), map[string]any{"name": "Shopline drive"}, key)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		})

		t.Run("unlinked_or_unknown_apps_are_403", func(t *testing.T) {
			other := s.createApp("drive", callback) // never linked to this account
			for _, id := range []string{other.clientID, "gh_app_nope", "bad id!", l.app.id} {
				s.driveUpload("", "x.txt", []byte("x"), key, withHeader(IntegrationHeader, id)).
					requireError(t, http.StatusForbidden, "forbidden", "integrationClientId")
				s.do("POST", "/api/drive/upload/presign", drivePresignBody("", "x.txt", "text/plain", 1, map[string]any{"integrationClientId": id}), key).
					requireError(t, http.StatusForbidden, "forbidden", "integrationClientId")
			}
			// The header and the body must agree.
			s.do("POST", "/api/drive/upload/presign", drivePresignBody("", "x.txt", "text/plain", 1, map[string]any{"integrationClientId": other.clientID}), key, viaApp).
				requireError(t, http.StatusBadRequest, "invalid_request", "integrationClientId")
			folders, _ := s.driveListing("", key)
			require.Equal(t, []string{"Mine", "Shopline drive"}, folders, "no folder for the other app")
		})

		t.Run("the_recycle_bin", func(t *testing.T) {
			// The key trashes the app's folder; the browser may not restore it
			// nor delete it for good.
			s.trashItem(key, core.DriveFolderKind, appFolder)
			bin := s.do("GET", "/api/drive/trash", nil, sess).json(t)
			require.Equal(t, []string{"Shopline drive"}, names(bin["folders"]))
			readOnly(s.do("POST", "/api/drive/trash", selection(nil, []string{appFolder}), sess))
			readOnly(s.do("DELETE", "/api/drive/trash", selection(nil, []string{appFolder}), sess))
			// The next upload makes a new app folder.
			n := s.mustDriveUpload("", "new.csv", []byte("new"), key, viaApp)
			require.NotEqual(t, appFolder, n["parentId"])
			// Restored beside it, the old one becomes an ordinary folder.
			require.Equal(t, http.StatusNoContent, s.do("POST", "/api/drive/trash", selection(nil, []string{appFolder}), key).status)
			old := s.driveItem(sess, core.DriveFolderKind, appFolder)
			require.Equal(t, "Shopline drive (1)", old["name"])
			require.Nil(t, old["integrationAppId"])
			require.Equal(t, false, old["inIntegrationAppFolder"])
			folders, _ := s.driveListing("", sess)
			require.Equal(t, []string{"Mine", "Shopline drive (1)"}, folders)
			r := s.do("PATCH", itemURL(core.DriveFolderKind, sub), map[string]any{"name": "Mine too"}, sess)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			// The new app folder is read-only to the browser, in the bin too.
			newFile := n["id"].(string)
			readOnly(s.do("DELETE", itemURL(core.DriveFileKind, newFile), nil, sess))
			s.trashItem(key, core.DriveFileKind, newFile)
			readOnly(s.do("POST", "/api/drive/trash", selection([]string{newFile}, nil), sess))
			readOnly(s.do("DELETE", "/api/drive/trash", selection([]string{newFile}, nil), sess))
			require.Equal(t, http.StatusNoContent, s.do("DELETE", "/api/drive/trash", selection([]string{newFile}, nil), key).status)
		})

		t.Run("a_revoked_link_is_403", func(t *testing.T) {
			rot := s.do("POST", "/api/keys/rotate", map[string]any{"product": "drive"}, sess)
			require.Equal(t, http.StatusOK, rot.status, "body: %s", rot.body)
			own := withKey(rot.json(t)["apiKey"].(string))
			require.Equal(t, http.StatusCreated, s.driveUpload("", "ok.csv", []byte("ok"), own, viaApp).status, "any drv_ key of the account may use the link")
			links := s.do("GET", "/api/integrations/links", nil, sess).list(t)
			require.Len(t, links, 1)
			require.Equal(t, http.StatusNoContent, s.do("DELETE", "/api/integrations/links/"+links[0]["id"].(string), nil, sess).status)
			s.driveUpload("", "x.csv", []byte("x"), own, viaApp).requireError(t, http.StatusForbidden, "forbidden", "integrationClientId")
			require.Equal(t, http.StatusCreated, s.driveUpload("", "x.csv", []byte("x"), own).status, "plain uploads still work")
		})
	})
}
