package httpapi

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gellhub/gellhub/core"
)

// The randomized test drives one account's Drive through the HTTP API
// with a seeded sequence of creates, uploads, renames, moves, trashes,
// restores, permanent deletes, purges and object deletions. A model
// predicts every answer; after each step the store is read directly and
// must match the model and keep the tree's invariants: no cycles, no
// orphans, live parents of live items, unique live sibling names, and
// used bytes equal to the sizes of the files that exist (live or trashed).
// GELLHUB_DRIVE_SEED replays a run; GELLHUB_DRIVE_STEPS sets its length.

const unknownFolderID = "fld_00000000000000000000000000"

var (
	randFolderNames = []string{"a", "A", "b", "B", "c", "a (1)"}
	randFileNames   = []string{"x.txt", "X.TXT", "y.txt", "x (1).txt", "Y.txt", "z"}
)

// rItem is the model of one folder or file.
type rItem struct {
	id      string
	kind    core.DriveItemKind
	name    string
	parent  string
	size    int64
	key     string // storage key (files)
	trashed bool
	root    string // the TrashRoot, when trashed
}

func (it *rItem) listed() bool { return it.trashed && it.root == it.id }

type driveRun struct {
	t       *testing.T
	s       *testServer
	rnd     *rand.Rand
	key     reqOpt
	driveID string
	items   map[string]*rItem
	order   []string        // ids in creation order (some since deleted)
	pending map[string]bool // storage keys of files deleted for good
	gone    []string        // ids deleted by the current step
	log     []string
	stepNo  int
	tally   map[string]int // outcomes, logged at the end
}

func TestDriveRandomized(t *testing.T) {
	seed := envUint(t, "GELLHUB_DRIVE_SEED", uint64(time.Now().UnixNano()))
	steps := 200
	if testing.Short() {
		steps = 60
	}
	steps = int(envUint(t, "GELLHUB_DRIVE_STEPS", uint64(steps)))
	t.Logf("seed %d (GELLHUB_DRIVE_SEED=%d replays it)", seed, seed)
	forEachBackend(t, func(t *testing.T, backend string) {
		s := newTestServer(t, backend, options{})
		a := s.register(uniqueEmail("random"))
		r := &driveRun{
			t: t, s: s, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), key: withKey(a.driveKey),
			driveID: s.driveOf(a.profileID), items: map[string]*rItem{}, pending: map[string]bool{}, tally: map[string]int{},
		}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("seed %d, last steps:\n%s", seed, strings.Join(r.log[max(0, len(r.log)-25):], "\n"))
			}
		})
		for i := range steps {
			s.clock.Advance(time.Second) // distinct deletion times
			r.gone, r.stepNo = r.gone[:0], i
			r.step()
			r.check()
		}
		t.Logf("%d steps, %d items left; outcomes: %v", steps, len(r.items), r.tally)
	})
}

// envUint reads a whole number from the environment, or returns def.
func envUint(t *testing.T, name string, def uint64) uint64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	require.NoError(t, err, name)
	return n
}

func (r *driveRun) logf(format string, args ...any) {
	r.log = append(r.log, fmt.Sprintf("step %3d: ", r.stepNo)+fmt.Sprintf(format, args...))
}

// expect asserts an answer's status and, for errors, its code.
func (r *driveRun) expect(rep reply, status int, code string) {
	r.t.Helper()
	_, what, _ := strings.Cut(r.log[len(r.log)-1], ": ")
	op, _, _ := strings.Cut(strings.TrimLeft(what, " "), " ")
	r.tally[op+" "+strconv.Itoa(status)+code]++
	if status >= 400 {
		rep.requireError(r.t, status, code, "")
		return
	}
	require.Equal(r.t, status, rep.status, "%s: body: %s", r.log[len(r.log)-1], rep.body)
}

func (r *driveRun) step() {
	n := len(r.items)
	w := r.rnd.IntN(100)
	if n > 45 && w < 40 { // keep the tree small: shrink instead
		w = 60 + r.rnd.IntN(35)
	}
	switch {
	case w < 18:
		r.createFolder()
	case w < 40:
		r.upload()
	case w < 48:
		r.rename()
	case w < 62:
		r.move()
	case w < 74:
		r.trash()
	case w < 84:
		r.restore()
	case w < 94:
		r.deleteForever()
	case w < 96:
		r.purge()
	default:
		r.deleteObjects()
	}
}

// existing returns the ids of the model's items in creation order,
// keeping those keep accepts (all when nil).
func (r *driveRun) existing(keep func(*rItem) bool) []string {
	var out []string
	for _, id := range r.order {
		if it, ok := r.items[id]; ok && (keep == nil || keep(it)) {
			out = append(out, id)
		}
	}
	return out
}

func pick[T any](r *driveRun, xs []T) T { return xs[r.rnd.IntN(len(xs))] }

func isFolder(it *rItem) bool { return it.kind == core.DriveFolderKind }

// pickParent is the root, an unknown folder, or any folder of the model.
func (r *driveRun) pickParent() string {
	folders := r.existing(isFolder)
	switch p := r.rnd.IntN(100); {
	case p < 25 || len(folders) == 0:
		return ""
	case p < 30:
		return unknownFolderID
	}
	return pick(r, folders)
}

// pickItem is any item of the model, or nil when there is none.
func (r *driveRun) pickItem(keep func(*rItem) bool) *rItem {
	ids := r.existing(keep)
	if len(ids) == 0 {
		return nil
	}
	return r.items[pick(r, ids)]
}

// taken reports whether a live item of kind other than except has the
// normalized name in parent.
func (r *driveRun) taken(kind core.DriveItemKind, parent, name, except string) bool {
	norm := core.NormalizeDriveName(name)
	for _, it := range r.items {
		if it.id != except && !it.trashed && it.kind == kind && it.parent == parent && core.NormalizeDriveName(it.name) == norm {
			return true
		}
	}
	return false
}

// freeName is the name the server gives an item placed in parent: name,
// or its first free " (n)" alternative.
func (r *driveRun) freeName(kind core.DriveItemKind, parent, name string) string {
	candidate := name
	for n := 1; r.taken(kind, parent, candidate, ""); n++ {
		candidate = core.NumberedName(name, n, kind)
	}
	return candidate
}

// subtree is id and every item below it.
func (r *driveRun) subtree(id string) []string {
	out := []string{id}
	for i := 0; i < len(out); i++ {
		for _, c := range r.order {
			if it, ok := r.items[c]; ok && it.parent == out[i] {
				out = append(out, c)
			}
		}
	}
	return out
}

// depth is the number of folders from the root down to a folder (itself
// included), or to a file's parent.
func (r *driveRun) depth(it *rItem) int {
	d := 0
	if isFolder(it) {
		d = 1
	}
	for p := it.parent; p != ""; p = r.items[p].parent {
		d++
	}
	return d
}

func (r *driveRun) remove(ids []string) {
	for _, id := range ids {
		if it, ok := r.items[id]; ok {
			if it.kind == core.DriveFileKind {
				r.pending[it.key] = true
			}
			delete(r.items, id)
			r.gone = append(r.gone, id)
		}
	}
}

func (r *driveRun) createFolder() {
	parent, name := r.pickParent(), pick(r, randFolderNames)
	r.logf("create folder %q in %q", name, parent)
	rep := r.s.do("POST", "/api/drive", map[string]any{"name": name, "parentId": nullable(parent)}, r.key)
	switch {
	case parent == unknownFolderID:
		r.expect(rep, http.StatusNotFound, "not_found")
	case parent != "" && r.items[parent].trashed:
		r.expect(rep, http.StatusConflict, "in_trash")
	case r.taken(core.DriveFolderKind, parent, name, ""):
		r.expect(rep, http.StatusConflict, "name_taken")
	default:
		r.expect(rep, http.StatusCreated, "")
		id := rep.json(r.t)["id"].(string)
		r.items[id] = &rItem{id: id, kind: core.DriveFolderKind, name: name, parent: parent}
		r.order = append(r.order, id)
		r.logf("  → %s", id)
	}
}

func (r *driveRun) upload() {
	parent, name := r.pickParent(), pick(r, randFileNames)
	size := 1 + r.rnd.IntN(64)
	r.logf("upload %q (%d bytes) to %q", name, size, parent)
	rep := r.s.driveUpload(parent, name, bytes.Repeat([]byte{byte('a' + r.rnd.IntN(26))}, size), r.key)
	switch {
	case parent == unknownFolderID:
		r.expect(rep, http.StatusNotFound, "not_found")
	case parent != "" && r.items[parent].trashed:
		r.expect(rep, http.StatusConflict, "in_trash")
	default:
		r.expect(rep, http.StatusCreated, "")
		m := rep.json(r.t)
		want := r.freeName(core.DriveFileKind, parent, name)
		require.Equal(r.t, want, m["name"], "a clash is numbered")
		id := m["id"].(string)
		r.items[id] = &rItem{id: id, kind: core.DriveFileKind, name: want, parent: parent, size: int64(size), key: m["storageKey"].(string)}
		r.order = append(r.order, id)
		r.logf("  → %s %q", id, want)
	}
}

func (r *driveRun) rename() {
	it := r.pickItem(nil)
	if it == nil {
		return
	}
	name := pick(r, randFolderNames)
	if !isFolder(it) {
		name = pick(r, randFileNames)
	}
	r.logf("rename %s %q → %q", it.id, it.name, name)
	rep := r.s.do("PATCH", itemURL(it.kind, it.id), map[string]any{"name": name}, r.key)
	switch {
	case it.trashed:
		r.expect(rep, http.StatusConflict, "in_trash")
	case r.taken(it.kind, it.parent, name, it.id):
		r.expect(rep, http.StatusConflict, "name_taken")
	default:
		r.expect(rep, http.StatusOK, "")
		it.name = name
	}
}

func (r *driveRun) move() {
	it := r.pickItem(nil)
	if it == nil {
		return
	}
	var target string
	if isFolder(it) && r.rnd.IntN(100) < 30 {
		target = pick(r, r.existing(func(d *rItem) bool { return isFolder(d) && slices.Contains(r.subtree(it.id), d.id) }))
	} else {
		target = r.pickParent()
	}
	r.logf("move %s %s to %q", it.kind, it.id, target)
	rep := r.s.do("PATCH", itemURL(it.kind, it.id), map[string]any{"targetFolderId": nullable(target)}, r.key)
	switch {
	case it.trashed:
		r.expect(rep, http.StatusConflict, "in_trash")
	case target == unknownFolderID:
		r.expect(rep, http.StatusNotFound, "not_found")
	case isFolder(it) && target != "" && slices.Contains(r.subtree(it.id), target):
		// Whatever the state of the subfolder.
		r.expect(rep, http.StatusBadRequest, "invalid_request")
	case target != "" && r.items[target].trashed:
		r.expect(rep, http.StatusConflict, "in_trash")
	case target != it.parent && r.taken(it.kind, target, it.name, it.id):
		r.expect(rep, http.StatusConflict, "name_taken")
	default:
		r.expect(rep, http.StatusOK, "")
		it.parent = target
	}
}

func (r *driveRun) trash() {
	it := r.pickItem(nil)
	if it == nil || r.rnd.IntN(100) < 5 {
		r.logf("trash an unknown folder")
		r.expect(r.s.do("DELETE", itemURL(core.DriveFolderKind, unknownFolderID), nil, r.key), http.StatusNotFound, "not_found")
		return
	}
	r.logf("trash %s %s (trashed %v)", it.kind, it.id, it.trashed)
	r.expect(r.s.do("DELETE", itemURL(it.kind, it.id), nil, r.key), http.StatusNoContent, "")
	if it.trashed {
		return // already in the bin: nothing changes
	}
	for _, id := range r.subtree(it.id) {
		if d := r.items[id]; !d.trashed {
			d.trashed, d.root = true, it.id
		}
	}
}

// selectionOf picks one to three items, mostly from the recycle bin.
func (r *driveRun) selectionOf(keep func(*rItem) bool) (fileIDs, folderIDs []string, picked []*rItem) {
	for range 1 + r.rnd.IntN(3) {
		var it *rItem
		if r.rnd.IntN(100) < 92 {
			it = r.pickItem(keep)
		}
		if it == nil {
			it = r.pickItem(nil)
		}
		if it == nil || slices.Contains(picked, it) {
			continue
		}
		picked = append(picked, it)
		if isFolder(it) {
			folderIDs = append(folderIDs, it.id)
		} else {
			fileIDs = append(fileIDs, it.id)
		}
	}
	return fileIDs, folderIDs, picked
}

func (r *driveRun) restore() {
	fileIDs, folderIDs, picked := r.selectionOf((*rItem).listed)
	if len(picked) == 0 {
		return
	}
	r.logf("restore files %v folders %v", fileIDs, folderIDs)
	rep := r.s.do("POST", "/api/drive/trash", selection(fileIDs, folderIDs), r.key)
	for _, it := range picked {
		if !it.listed() {
			r.expect(rep, http.StatusNotFound, "not_found")
			return
		}
	}
	r.expect(rep, http.StatusNoContent, "")
	// The server restores folders first, shallowest first, then files;
	// ids sorted within (a stable sort of the sorted ids).
	slices.SortFunc(picked, func(a, b *rItem) int { return strings.Compare(a.id, b.id) })
	depth := map[string]int{}
	for _, it := range picked {
		depth[it.id] = r.depth(it)
	}
	slices.SortStableFunc(picked, func(a, b *rItem) int {
		if a.kind != b.kind {
			if isFolder(a) {
				return -1
			}
			return 1
		}
		return cmp.Compare(depth[a.id], depth[b.id])
	})
	for _, it := range picked {
		if it.parent != "" && r.items[it.parent].trashed {
			it.parent = ""
		}
		it.name = r.freeName(it.kind, it.parent, it.name)
		for _, d := range r.items {
			if d.trashed && d.root == it.id {
				d.trashed, d.root = false, ""
			}
		}
	}
}

func (r *driveRun) deleteForever() {
	fileIDs, folderIDs, picked := r.selectionOf(func(it *rItem) bool { return it.trashed })
	if len(picked) == 0 {
		return
	}
	r.logf("delete for good files %v folders %v", fileIDs, folderIDs)
	rep := r.s.do("DELETE", "/api/drive/trash", selection(fileIDs, folderIDs), r.key)
	for _, it := range picked {
		if !it.trashed {
			r.expect(rep, http.StatusNotFound, "not_found")
			return
		}
	}
	r.expect(rep, http.StatusNoContent, "")
	for _, it := range picked {
		if _, ok := r.items[it.id]; ok {
			r.remove(r.subtree(it.id))
		}
	}
}

func (r *driveRun) purge() {
	listed := r.existing((*rItem).listed)
	r.logf("purge after 30 days (%d listed)", len(listed))
	r.s.clock.Advance(core.TrashRetention + time.Hour)
	n, err := r.s.drive.PurgeTrash(context.Background())
	require.NoError(r.t, err)
	// n counts the items deleted themselves: at least those not inside
	// another listed folder (one inside may go with it first).
	top := 0
	for _, id := range listed {
		inside := false
		for p := r.items[id].parent; p != "" && !inside; p = r.items[p].parent {
			inside = r.items[p].listed()
		}
		if !inside {
			top++
		}
	}
	require.GreaterOrEqual(r.t, n, top)
	require.LessOrEqual(r.t, n, len(listed))
	for _, id := range listed {
		if _, ok := r.items[id]; ok {
			r.remove(r.subtree(id))
		}
	}
	for _, it := range r.items {
		require.False(r.t, it.trashed, "the model purged %s", it.id)
	}
}

func (r *driveRun) deleteObjects() {
	r.logf("delete objects (%d pending)", len(r.pending))
	ctx := context.Background()
	n, err := r.s.drive.DeleteObjects(ctx)
	require.NoError(r.t, err)
	require.Equal(r.t, len(r.pending), n)
	for key := range r.pending {
		_, err := r.s.blobs.Head(ctx, key)
		require.True(r.t, core.IsKind(err, core.KindNotFound), "object %s removed: %v", key, err)
	}
	clear(r.pending)
	for _, it := range r.items {
		if !isFolder(it) {
			_, err := r.s.blobs.Head(ctx, it.key)
			require.NoError(r.t, err, "the object of %s stays", it.id)
		}
	}
}
