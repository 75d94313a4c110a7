package capturetest

import (
	"fmt"

	"github.com/cairnlog/cairn/journal"
	"github.com/cairnlog/cairn/schema"
)

// Rendered returns recs (a whole stream from seq 1) with Avro row images
// decoded to canonical row JSON (what readers show), with the codecs of
// the schema entries among recs. Each fingerprint must be recorded before
// its first use. Key-only before images (metadata before_image=key) and
// entries without a fingerprint pass through. (replay/history does this
// for readers; capture may not import replay.)
func Rendered(recs []journal.Record) ([]journal.Record, error) {
	codecs := map[schema.Fingerprint]*schema.Codec{}
	out := make([]journal.Record, len(recs))
	for i, r := range recs {
		out[i] = r
		var fp schema.Fingerprint
		copy(fp[:], r.SchemaFingerprint)
		switch {
		case r.Kind == journal.KindSchema:
			reg, err := schema.UnmarshalRegistration(r.Payload)
			if err != nil {
				return nil, fmt.Errorf("seq %d: %w", r.Seq, err)
			}
			c, err := schema.NewCodec(reg.Schema)
			if err != nil {
				return nil, fmt.Errorf("seq %d: %w", r.Seq, err)
			}
			codecs[schema.FingerprintOf(reg.Schema)] = c
		case len(r.SchemaFingerprint) > 0 && (r.Kind == journal.KindChange || r.Kind == journal.KindSnapshotRead):
			c := codecs[fp]
			if c == nil {
				return nil, fmt.Errorf("seq %d: fingerprint %s used before it is recorded", r.Seq, fp)
			}
			var err error
			if len(r.Before) > 0 && r.Metadata["before_image"] != "key" {
				if out[i].Before, err = c.Decode(nil, r.Before); err != nil {
					return nil, fmt.Errorf("seq %d before: %w", r.Seq, err)
				}
			}
			if len(r.After) > 0 {
				if out[i].After, err = c.Decode(nil, r.After); err != nil {
					return nil, fmt.Errorf("seq %d after: %w", r.Seq, err)
				}
			}
		}
	}
	return out, nil
}

// MustRender is Rendered for tests; it panics on error.
func MustRender(recs []journal.Record) []journal.Record {
	out, err := Rendered(recs)
	if err != nil {
		panic(err)
	}
	return out
}
