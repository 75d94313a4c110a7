package hugo

import (
	"fmt"

	"github.com/cairnlog/cairn/journal"
)

// KindOffset is added to a journal kind to give the Hugo-profile kind. Hugo's
// TaskQueueReplicationEventKind uses 0-8 and OmniRelay's
// ResourceLeaseReplicationEventType 1-7, so Cairn's kinds start above 100 and
// can never be read as one of theirs.
const KindOffset = 100

// Hugo-profile kinds: KindOffset + the journal kind. The values are part of
// the contract (docs/contracts/hugo.md) and never change.
const (
	KindDataChange   int32 = KindOffset + int32(journal.KindChange)       // 101
	KindTxBegin      int32 = KindOffset + int32(journal.KindTxBegin)      // 102
	KindTxCommit     int32 = KindOffset + int32(journal.KindTxCommit)     // 103
	KindSchema       int32 = KindOffset + int32(journal.KindSchema)       // 104
	KindSnapshotRead int32 = KindOffset + int32(journal.KindSnapshotRead) // 105
	KindHeartbeat    int32 = KindOffset + int32(journal.KindHeartbeat)    // 106
	KindAppEvent     int32 = KindOffset + int32(journal.KindAppEvent)     // 107
	KindGap          int32 = KindOffset + int32(journal.KindGap)          // 108
	KindCheckpoint   int32 = KindOffset + int32(journal.KindCheckpoint)   // 109
)

// KindFor maps a journal kind to its Hugo-profile kind. It fails for a kind
// the journal does not define, so an undocumented value is never emitted.
func KindFor(k journal.Kind) (int32, error) {
	if !k.Valid() {
		return 0, fmt.Errorf("%w: unknown journal kind %d", ErrUnrenderable, uint8(k))
	}
	return KindOffset + int32(k), nil
}
