package drive_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gellhub/gellhub/core"
	"github.com/gellhub/gellhub/core/drive"
)

var driveSeed = flag.Uint64("drive.seed", 0, "replay TestRandomizedTree with this seed")

// TestRandomizedTree runs long random sequences of Drive changes against
// a model of the tree, and checks after each step that the store agrees
// with the model and that no cycle, orphan or name clash appeared and the
// used bytes are the sizes of the live and trashed files. A failure logs
// its seed: replay it with -drive.seed=N.
func TestRandomizedTree(t *testing.T) {
	t.Parallel()
	seeds := []uint64{1, 2, uint64(time.Now().UnixNano())}
	if *driveSeed != 0 {
		seeds = []uint64{*driveSeed}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed_", seed), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			m := &treeModel{
				t: t, f: f, u: f.register(t, ""), seed: seed, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
				items: map[string]*mItem{}, gone: map[string]core.DriveItemKind{}, pending: map[string]bool{},
				stats: map[string]int{},
			}
			for m.step = 0; m.step < 500; m.step++ {
				m.randomStep()
				m.check()
				f.clock.Advance(time.Second)
			}
			m.deleteObjects()
			m.check()
			t.Logf("%d items, %d deleted; outcomes %v", len(m.items), len(m.gone), m.stats)
		})
	}
}

// mItem is a folder or file as the model expects it.
type mItem struct {
	kind      core.DriveItemKind
	id        string
	parent    string
	name      string
	trashedAt time.Time
	trashRoot string
	size      int64
	key       string
}

func (i *mItem) trashed() bool { return !i.trashedAt.IsZero() }
func (i *mItem) listed() bool  { return i.trashed() && i.trashRoot == i.id }

type treeModel struct {
	t       *testing.T
	f       *fixture
	u       user
	seed    uint64
	rnd     *rand.Rand
	step    int
	op      string
	items   map[string]*mItem
	order   []string                      // ids in creation order: reproducible picks
	gone    map[string]core.DriveItemKind // deleted for good
	pending map[string]bool               // storage keys awaiting DeleteObjects
	stats   map[string]int                // outcomes, logged at the end
}

var (
	modelFolderNames = []string{"a", "A", "b", "Docs", "docs", "x.jpg"}
	modelFileNames   = []string{"p.jpg", "P.JPG", "q.jpg", "x.jpg", "docs"}
)

func (m *treeModel) fatalf(format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf("seed %d (replay: -drive.seed=%d), step %d, %s: %s", m.seed, m.seed, m.step, m.op, fmt.Sprintf(format, args...))
}

func (m *treeModel) expectOK(err error) {
	m.t.Helper()
	if err != nil {
		m.fatalf("unexpected error %v", err)
	}
	m.stats[m.opName()+": ok"]++
}

// opName is the operation's first word.
func (m *treeModel) opName() string {
	name, _, _ := strings.Cut(m.op, " ")
	return name
}

func (m *treeModel) expectErr(err error, kind core.Kind, code, detail string) {
	m.t.Helper()
	e, ok := core.AsError(err)
	if !ok || e.Kind != kind || (code != "" && e.Code != code) || (detail != "" && e.Detail != detail) {
		m.fatalf("got %v, want %v %s %s", err, kind, code, detail)
	}
	m.stats[m.opName()+": "+kind.String()+" "+code+detail]++
}

func (m *treeModel) now() time.Time { return m.f.clock.Now().UTC().Truncate(time.Microsecond) }

// ids lists the model's items that keep, in creation order.
func (m *treeModel) ids(keep func(*mItem) bool) []string {
	var out []string
	for _, id := range m.order {
		if it, ok := m.items[id]; ok && keep(it) {
			out = append(out, id)
		}
	}
	return out
}

func (m *treeModel) pick(ids []string) string { return ids[m.rnd.IntN(len(ids))] }

func live(it *mItem) bool          { return !it.trashed() }
func liveFolder(it *mItem) bool    { return it.kind == folderKind && !it.trashed() }
func trashedFolder(it *mItem) bool { return it.kind == folderKind && it.trashed() }

// who is the Drive key or, at times, a session: outside app folders they
// may do the same.
func (m *treeModel) who() core.Principal {
	if m.rnd.IntN(4) == 0 {
		return m.u.session
	}
	return m.u.key
}

// parent picks a live folder, or the root.
func (m *treeModel) parent() string {
	folders := m.ids(liveFolder)
	if len(folders) == 0 || m.rnd.IntN(4) == 0 {
		return ""
	}
	return m.pick(folders)
}

// depth is how deep a folder sits (1 at the root; 0 for the root itself).
func (m *treeModel) depth(id string) int {
	n := 0
	for ; id != ""; id = m.items[id].parent {
		n++
	}
	return n
}

func (m *treeModel) children(id string) []string {
	return m.ids(func(it *mItem) bool { return it.parent == id })
}

// height counts the folder levels of a folder's subtree, in any state.
func (m *treeModel) height(id string) int {
	h := 0
	for _, c := range m.children(id) {
		if m.items[c].kind == folderKind {
			h = max(h, m.height(c))
		}
	}
	return h + 1
}

// within reports whether folder id is anc or lies below it.
func (m *treeModel) within(id, anc string) bool {
	for ; id != ""; id = m.items[id].parent {
		if id == anc {
			return true
		}
	}
	return false
}

func (m *treeModel) taken(kind core.DriveItemKind, parent, name, except string) bool {
	norm := core.NormalizeDriveName(name)
	for _, id := range m.children(parent) {
		it := m.items[id]
		if id != except && it.kind == kind && !it.trashed() && core.NormalizeDriveName(it.name) == norm {
			return true
		}
	}
	return false
}

func (m *treeModel) freeName(kind core.DriveItemKind, parent, name string) string {
	candidate := name
	for n := 1; m.taken(kind, parent, candidate, ""); n++ {
		candidate = core.NumberedName(name, n, kind)
	}
	return candidate
}

func (m *treeModel) add(it *mItem) {
	m.items[it.id] = it
	m.order = append(m.order, it.id)
}

// remove deletes an item and everything below it for good.
func (m *treeModel) remove(id string) {
	it, ok := m.items[id]
	if !ok {
		return
	}
	for _, c := range m.children(id) {
		m.remove(c)
	}
	delete(m.items, id)
	m.gone[id] = it.kind
	if it.kind == fileKind {
		m.pending[it.key] = true
	}
}

func (m *treeModel) randomStep() {
	ops := []struct {
		weight int
		run    func() bool // false: nothing to do it on
	}{
		{14, m.createFolder}, {16, m.upload}, {10, m.rename}, {16, m.move}, {12, m.trash},
		{10, m.restore}, {8, m.delete}, {3, m.purge}, {3, m.deleteObjects},
	}
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	for {
		r := m.rnd.IntN(total)
		for _, o := range ops {
			if r -= o.weight; r < 0 {
				if o.run() {
					return
				}
				break
			}
		}
	}
}

func (m *treeModel) createFolder() bool {
	ctx := context.Background()
	parent, name := m.parent(), modelFolderNames[m.rnd.IntN(len(modelFolderNames))]
	m.op = fmt.Sprintf("create folder %q in %q", name, parent)
	d, err := m.f.svc.CreateFolder(ctx, m.who(), name, parent)
	switch {
	case m.depth(parent)+1 > core.MaxDriveDepth:
		m.expectErr(err, core.KindInvalid, "", "parentId")
	case m.taken(folderKind, parent, name, ""):
		m.expectErr(err, core.KindConflict, "name_taken", "")
	default:
		m.expectOK(err)
		m.add(&mItem{kind: folderKind, id: d.ID, parent: parent, name: name})
	}
	return true
}

func (m *treeModel) upload() bool {
	parent, name := m.parent(), modelFileNames[m.rnd.IntN(len(modelFileNames))]
	body := make([]byte, 1+m.rnd.IntN(64))
	for i := range body {
		body[i] = byte(m.rnd.Uint32())
	}
	m.op = fmt.Sprintf("upload %q (%d bytes) into %q", name, len(body), parent)
	v, err := m.f.uploadTo(m.who(), drive.UploadTarget{FolderID: parent}, name, body)
	m.expectOK(err)
	if want := m.freeName(fileKind, parent, name); v.File.Name != want {
		m.fatalf("named %q, want %q", v.File.Name, want)
	}
	m.add(&mItem{kind: fileKind, id: v.File.ID, parent: parent, name: v.File.Name, size: int64(len(body)), key: v.File.StorageKey})
	return true
}

// subject picks a live item, or at times a trashed one (in_trash).
func (m *treeModel) subject() (*mItem, bool) {
	all := m.ids(live)
	if trashed := m.ids(func(it *mItem) bool { return it.trashed() }); len(trashed) > 0 && (len(all) == 0 || m.rnd.IntN(10) == 0) {
		all = trashed
	}
	if len(all) == 0 {
		return nil, false
	}
	return m.items[m.pick(all)], true
}

func (m *treeModel) rename() bool {
	it, ok := m.subject()
	if !ok {
		return false
	}
	pool := modelFileNames
	if it.kind == folderKind {
		pool = modelFolderNames
	}
	name := pool[m.rnd.IntN(len(pool))]
	m.op = fmt.Sprintf("rename %s %s %q to %q", it.kind, it.id, it.name, name)
	_, err := m.f.svc.Update(context.Background(), m.who(), it.kind, it.id, drive.Patch{Name: &name})
	switch {
	case it.trashed():
		m.expectErr(err, core.KindConflict, "in_trash", "")
	case core.NormalizeDriveName(name) != core.NormalizeDriveName(it.name) && m.taken(it.kind, it.parent, name, it.id):
		m.expectErr(err, core.KindConflict, "name_taken", "")
	default:
		m.expectOK(err)
		it.name = name
	}
	return true
}

func (m *treeModel) move() bool {
	it, ok := m.subject()
	if !ok {
		return false
	}
	target := m.parent()
	if folders := m.ids(trashedFolder); len(folders) > 0 && m.rnd.IntN(10) == 0 {
		target = m.pick(folders)
	}
	m.op = fmt.Sprintf("move %s %s from %q to %q", it.kind, it.id, it.parent, target)
	_, err := m.f.svc.Update(context.Background(), m.who(), it.kind, it.id, drive.Patch{Move: true, Target: target})
	switch {
	case it.trashed():
		m.expectErr(err, core.KindConflict, "in_trash", "")
	case it.kind == folderKind && target != "" && m.within(target, it.id):
		// Checked before the target's state: into its own subfolder is
		// wrong even when that subfolder is in the recycle bin.
		m.expectErr(err, core.KindInvalid, "", "targetFolderId")
	case target != "" && m.items[target].trashed():
		m.expectErr(err, core.KindConflict, "in_trash", "")
	case it.kind == folderKind && m.depth(target)+m.height(it.id) > core.MaxDriveDepth:
		m.expectErr(err, core.KindInvalid, "", "targetFolderId")
	case target != it.parent && m.taken(it.kind, target, it.name, it.id):
		m.expectErr(err, core.KindConflict, "name_taken", "")
	default:
		m.expectOK(err)
		it.parent = target
	}
	return true
}

func (m *treeModel) trash() bool {
	all := m.ids(func(*mItem) bool { return true })
	if len(all) == 0 {
		return false
	}
	it := m.items[m.pick(all)]
	m.op = fmt.Sprintf("trash %s %s (trashed: %v)", it.kind, it.id, it.trashed())
	m.expectOK(m.f.svc.Trash(context.Background(), m.who(), it.kind, it.id))
	if it.trashed() {
		return true
	}
	now := m.now()
	it.trashedAt, it.trashRoot = now, it.id
	var along func(id string)
	along = func(id string) {
		for _, c := range m.children(id) {
			if ci := m.items[c]; !ci.trashed() {
				ci.trashedAt, ci.trashRoot = now, it.id
				along(c)
			}
		}
	}
	along(it.id)
	return true
}

// selection picks 1–3 distinct ids among from, and at times one that
// spoils the batch (bad ids, when there are any).
func (m *treeModel) selection(from, bad []string) (drive.Selection, []string, bool) {
	var sel drive.Selection
	var chosen []string
	for _, i := range m.rnd.Perm(len(from))[:1+m.rnd.IntN(min(3, len(from)))] {
		chosen = append(chosen, from[i])
	}
	spoilt := len(bad) > 0 && m.rnd.IntN(6) == 0
	ids := chosen
	if spoilt {
		ids = append(slices.Clone(chosen), m.pick(bad))
	}
	for _, id := range ids {
		if m.items[id].kind == folderKind {
			sel.FolderIDs = append(sel.FolderIDs, id)
		} else {
			sel.FileIDs = append(sel.FileIDs, id)
		}
	}
	return sel, chosen, spoilt
}

func (m *treeModel) restore() bool {
	listed := m.ids(func(it *mItem) bool { return it.listed() })
	if len(listed) == 0 {
		return false
	}
	sel, chosen, spoilt := m.selection(listed, m.ids(func(it *mItem) bool { return !it.listed() }))
	m.op = fmt.Sprintf("restore %v (spoilt: %v)", sel, spoilt)
	err := m.f.svc.Restore(context.Background(), m.who(), sel)
	if spoilt {
		m.expectErr(err, core.KindNotFound, "", "")
		return true
	}
	m.expectOK(err)
	// The core's order: folders, then files, each shallowest first, ties
	// by id.
	slices.Sort(chosen)
	pathLen := func(it *mItem) int {
		if it.kind == folderKind {
			return m.depth(it.id)
		}
		return m.depth(it.parent)
	}
	slices.SortStableFunc(chosen, func(a, b string) int {
		ia, ib := m.items[a], m.items[b]
		if ia.kind != ib.kind {
			if ia.kind == folderKind {
				return -1
			}
			return 1
		}
		return pathLen(ia) - pathLen(ib)
	})
	for _, id := range chosen {
		it := m.items[id]
		if it.parent != "" && m.items[it.parent].trashed() {
			it.parent = ""
		}
		it.name = m.freeName(it.kind, it.parent, it.name)
		it.trashedAt, it.trashRoot = time.Time{}, ""
		for _, other := range m.items {
			if other.trashRoot == id {
				other.trashedAt, other.trashRoot = time.Time{}, ""
			}
		}
	}
	return true
}

func (m *treeModel) delete() bool {
	trashed := m.ids(func(it *mItem) bool { return it.trashed() })
	if len(trashed) == 0 {
		return false
	}
	sel, chosen, spoilt := m.selection(trashed, m.ids(live))
	m.op = fmt.Sprintf("delete %v (spoilt: %v)", sel, spoilt)
	err := m.f.svc.Delete(context.Background(), m.who(), sel)
	if spoilt {
		m.expectErr(err, core.KindNotFound, "", "")
		return true
	}
	m.expectOK(err)
	for _, id := range chosen {
		m.remove(id)
	}
	return true
}

func (m *treeModel) purge() bool {
	d := []time.Duration{time.Hour, 10 * 24 * time.Hour, 31 * 24 * time.Hour}[m.rnd.IntN(3)]
	m.f.clock.Advance(d)
	m.op = fmt.Sprintf("purge after %v", d)
	cutoff := m.now().Add(-core.TrashRetention)
	expired := m.ids(func(it *mItem) bool { return it.listed() && !it.trashedAt.After(cutoff) })
	n, err := m.f.svc.PurgeTrash(context.Background())
	m.expectOK(err)
	if n != len(expired) {
		m.fatalf("purged %d, want %d", n, len(expired))
	}
	for _, id := range expired {
		m.remove(id)
	}
	return true
}

func (m *treeModel) deleteObjects() bool {
	ctx := context.Background()
	m.op = "delete-objects"
	n, err := m.f.svc.DeleteObjects(ctx)
	m.expectOK(err)
	if n != len(m.pending) {
		m.fatalf("deleted %d objects, want %d", n, len(m.pending))
	}
	for key := range m.pending {
		if _, err := m.f.blobs.Head(ctx, key); !core.IsKind(err, core.KindNotFound) {
			m.fatalf("object %s still there: %v", key, err)
		}
	}
	clear(m.pending)
	return true
}
