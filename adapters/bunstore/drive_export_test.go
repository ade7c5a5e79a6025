package bunstore

import "github.com/gellhub/gellhub/core"

// DriveListSQL returns the SQL text of the folder and file queries that
// List runs for q, so tests can EXPLAIN exactly what List sends.
func DriveListSQL(s *Store, driveID string, q core.DriveQuery) (folders, files string) {
	r := driveReader{s.db, driveID}
	var fo []driveFolderRow
	var fi []driveFileRow
	folders = r.listPage(s.db.NewSelect().Model(&fo), q, core.DriveFolderKind, q.Limit).String()
	files = r.listPage(s.db.NewSelect().Model(&fi), q, core.DriveFileKind, q.Limit).String()
	return folders, files
}
