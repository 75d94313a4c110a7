// Package queue runs consumer groups over the journal: at-least-once work
// distribution with leases, acks, nacks, lease expiry and dead letters, in
// the manner of Hugo's SafeTaskQueue. docs/queues.md describes it for users.
//
// # Model
//
// A group reads one stream from seq 1, in seq order. Only change,
// snapshot_read and app_event entries are delivered; the other kinds are
// passed over. The group admits entries from the journal into a bounded
// window (Options.MaxInFlight unfinished entries); the rest of the backlog
// stays in the journal. An admitted entry is waiting (behind an earlier
// unfinished entry with the same ordering key, table 0x00 key), ready,
// delayed (nacked with a delay) or leased; it ends acked or dead-lettered.
// The ack floor is the lowest unfinished seq: everything below it is done.
// Memory per group is the window, one byte per seq between the floor and
// the next seq, and at most 8 MiB of records admitted but not yet leased
// (kept so a first delivery needs no second journal read).
//
// # Durability
//
// Every call that changes a group is one state.Update (one Badger write
// batch, fsynced) made while the group's mutex is held, so the durable
// state always equals the state after some whole call. A failed write drops
// the group from memory and the next call reloads it from the store.
// Leases are durable: after a restart a lease is still valid until its
// deadline, and its token can still ack, nack or extend. Lease expiry itself
// is not written (the stored deadline says it); a dead letter is.
//
// Durable key layout (state store; seq 8 bytes big-endian):
//
//	q/m/<stream> 0x00 <group>            41 bytes: version 1, floor, next, acked tally, dead tally, created (unix ns)
//	q/e/<stream> 0x00 <group> 0x00 <seq> 38 bytes: version 1, status (1 open, 2 acked, 3 dead), attempt u32,
//	                                     not-before ns, deadline ns, lease id (16 bytes); only for seqs
//	                                     >= floor that were leased at least once
//	q/d/<stream> 0x00 <group> 0x00 <seq> version 1, attempts u32, at ns, last attempt u32, last lease id,
//	                                     reason (u16 length + UTF-8)
//
// Entry keys below the floor are deleted as the floor passes them (at most
// 2048 per write, the rest with the following writes, at Close or on the
// next load), so the state holds the meta, the window and the dead letters.
// On load the group re-reads [floor, next) from the journal to rebuild the
// window: entries without an entry key there are fresh.
//
// # Concurrency
//
// Each group has a mutex held for the whole of a call, including its state
// write; different groups proceed in parallel. Lock order: Manager.mu is
// never held while waiting for a group mutex; a call holding a group mutex
// may take Manager.mu briefly (to drop a group whose write failed).
//
// Allowed imports: journal, replay/state and libraries.
package queue
