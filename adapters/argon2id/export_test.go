package argon2id

// SetTestHooks makes h call inSlot while a caller holds a slot, before it
// hashes, and queued once a caller has its place in the waiting line. Set
// them before h is used.
func SetTestHooks(h *Hasher, inSlot, queued func()) {
	h.inSlot, h.queued = inSlot, queued
}
