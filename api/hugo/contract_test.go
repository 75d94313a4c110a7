package hugo

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cairnlog/cairn/journal"
)

// The tests in this file read the contract document and check the golden
// fixture against it, with expected values computed here independently of
// render.go. The doc, the fixture and the code cannot drift apart.

const contractDoc = "../../docs/contracts/hugo.md"

// docTable returns the cells of the first table under the "## heading"
// section of the contract document, without its header and separator rows.
func docTable(t *testing.T, heading string) [][]string {
	t.Helper()
	f, err := os.Open(contractDoc)
	if err != nil {
		t.Fatalf("open the contract document: %v", err)
	}
	defer f.Close()
	var rows [][]string
	in, inTable := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "## ") {
			if in && inTable {
				break
			}
			in = line == "## "+heading
			continue
		}
		if !in {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		inTable = true
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, cells)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 3 || !strings.HasPrefix(rows[1][0], "---") {
		t.Fatalf("%s: no table under \"## %s\"", contractDoc, heading)
	}
	return rows[2:]
}

// unquote strips the backticks of a `code` cell.
func unquote(t *testing.T, cell string) string {
	t.Helper()
	if len(cell) < 3 || cell[0] != '`' || cell[len(cell)-1] != '`' {
		t.Fatalf("%s: cell %q should be a `code` name", contractDoc, cell)
	}
	return cell[1 : len(cell)-1]
}

type docField struct {
	name  string
	types map[string]bool // JSON types: string, number, object, null, ...
}

func docFields(t *testing.T) []docField {
	t.Helper()
	var out []docField
	for _, row := range docTable(t, "Fields") {
		if len(row) != 4 {
			t.Fatalf("%s: field row %q has %d cells, want 4 (field, JSON type, meaning, source)", contractDoc, row, len(row))
		}
		f := docField{name: unquote(t, row[0]), types: map[string]bool{}}
		for _, ty := range strings.Split(row[1], " or ") {
			switch ty {
			case "string", "number", "object", "null", "array", "boolean":
				f.types[ty] = true
			default:
				t.Fatalf("%s: field %s: unknown JSON type %q", contractDoc, f.name, ty)
			}
		}
		out = append(out, f)
	}
	return out
}

// docKinds maps journal kind names to the documented `kind` numbers.
func docKinds(t *testing.T) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, row := range docTable(t, "Kind mapping") {
		n, err := strconv.ParseInt(row[1], 10, 32)
		if err != nil {
			t.Fatalf("%s: kind row %q: %v", contractDoc, row, err)
		}
		out[unquote(t, row[0])] = n
	}
	return out
}

// jsonType names the JSON type of a value decoded with UseNumber.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

// decodeObject decodes one envelope with exact numbers and returns it with
// its top-level keys in document order.
func decodeObject(t *testing.T, raw []byte) (map[string]any, []string) {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	var keys []string
	d = json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if _, err := d.Token(); err != nil { // {
		t.Fatal(err)
	}
	for d.More() {
		k, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return m, keys
}

func num(u uint64) json.Number { return json.Number(strconv.FormatUint(u, 10)) }

func strOrNil(s string) any {
	if s == "" {
		return nil
	}
	return string([]rune(s)) // as a JSON reader sees it: invalid bytes are U+FFFD
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func b64OrNil(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return base64.StdEncoding.EncodeToString(b)
}

func utf16Units(s string) int { return len(utf16.Encode([]rune(s))) }

// wantChangeID is the changeId rule of the contract document, written out
// again with the standard library's UTF-16 encoder.
func wantChangeID(e *journal.Entry) string {
	subject := e.Kind.String()
	if (e.Kind == journal.KindChange || e.Kind == journal.KindSnapshotRead) && e.Table != "" {
		subject = e.Table
	}
	natural := string([]rune("cairn." + e.Stream + "." + subject))
	limit := 221 - len(e.Stream)
	if utf16Units(natural) <= limit {
		return natural
	}
	sum := sha256.Sum256([]byte(natural))
	var prefix []rune
	for _, r := range natural {
		if utf16Units(string(append(prefix, r))) > limit-33 {
			break
		}
		prefix = append(prefix, r)
	}
	return string(prefix) + "~" + hex.EncodeToString(sum[:])[:32]
}

func wantImage(t *testing.T, b []byte) any {
	t.Helper()
	if len(b) == 0 {
		return nil
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err == nil && !d.More() {
		if m, ok := v.(map[string]any); ok {
			return m
		}
	}
	return map[string]any{"$base64": base64.StdEncoding.EncodeToString(b)}
}

// expectedEnvelope computes every documented field of rec independently of
// render.go.
func expectedEnvelope(t *testing.T, rec *journal.Record, opt Options, kinds map[string]int64) map[string]any {
	t.Helper()
	e := &rec.Entry
	version := int64(1)
	if opt.SchemaVersion != nil {
		version = int64(opt.SchemaVersion(rec))
	}
	changeID := wantChangeID(e)
	want := map[string]any{
		"profile":           "cairn.hugo.v1",
		"streamId":          e.Stream,
		"queueName":         e.Stream,
		"sequence":          num(e.Seq),
		"sequenceNumber":    num(e.Seq),
		"prevSequence":      num(e.Seq - 1),
		"kind":              json.Number(strconv.FormatInt(kinds[e.Kind.String()], 10)),
		"flags":             json.Number("0"),
		"sourcePeerId":      strOrNil(opt.SourcePeerID),
		"ownerPeerId":       strOrNil(e.ProducerID),
		"sourceId":          strOrNil(e.SourceID),
		"sourcePosition":    b64OrNil(e.SourcePosition),
		"txId":              strOrNil(e.TxID),
		"occurredAt":        timeOrNil(e.CommitTime),
		"recordedAt":        timeOrNil(e.RecordedAt),
		"changeId":          changeID,
		"schemaId":          nil,
		"schemaVersion":     json.Number(strconv.FormatInt(version, 10)),
		"effectId":          fmt.Sprintf("%s::v%d::%s/%d", changeID, version, e.Stream, e.Seq),
		"entityKey":         nil,
		"entityKeyEncoding": nil,
		"idempotencyKey":    nil,
		"table":             strOrNil(e.Table),
		"op":                strOrNil(e.Op.String()),
		"before":            wantImage(t, e.Before),
		"after":             wantImage(t, e.After),
		"payload":           b64OrNil(e.Payload),
		"payloadEncoding":   nil,
		"metadata":          map[string]any{},
		"prevHash":          hex.EncodeToString(e.PrevHash[:]),
		"hash":              hex.EncodeToString(rec.Hash[:]),
		"checkpointToken":   "(checked by wantToken)",
	}
	if len(e.SchemaFingerprint) > 0 {
		want["schemaId"] = hex.EncodeToString(e.SchemaFingerprint)
	}
	switch {
	case len(e.Key) == 0:
	case utf8.Valid(e.Key):
		want["entityKey"], want["entityKeyEncoding"] = string(e.Key), "utf-8"
	default:
		want["entityKey"], want["entityKeyEncoding"] = base64.StdEncoding.EncodeToString(e.Key), "base64"
	}
	if e.ProducerID != "" {
		want["idempotencyKey"] = map[string]any{"producerId": strOrNil(e.ProducerID), "producerSeq": num(e.ProducerSeq)}
	}
	switch {
	case len(e.Payload) == 0:
	case json.Valid(e.Payload):
		want["payloadEncoding"] = "application/json"
	case utf8.Valid(e.Payload):
		want["payloadEncoding"] = "text/plain; charset=utf-8"
	default:
		want["payloadEncoding"] = "application/octet-stream"
	}
	for k, v := range e.Metadata {
		want["metadata"].(map[string]any)[string([]rune(k))] = string([]rune(v))
	}
	return want
}

// checkToken decodes a checkpoint token by the documented layout.
func checkToken(t *testing.T, token string, rec *journal.Record) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("checkpointToken %q is not unpadded base64url: %v", token, err)
	}
	e := &rec.Entry
	want := []byte{1, byte(len(e.Stream))}
	want = append(want, e.Stream...)
	want = binary.BigEndian.AppendUint64(want, e.Seq)
	want = append(want, rec.Hash[:]...)
	want = binary.BigEndian.AppendUint32(want, crc32.Checksum(want, crc32.MakeTable(crc32.Castagnoli)))
	if !bytes.Equal(raw, want) {
		t.Errorf("checkpointToken bytes\n got %x\nwant %x", raw, want)
	}
	got, err := ParseCheckpointToken(token)
	if err != nil {
		t.Fatalf("ParseCheckpointToken(%q): %v", token, err)
	}
	if got != (CheckpointToken{e.Stream, e.Seq, rec.Hash}) {
		t.Errorf("ParseCheckpointToken = %+v", got)
	}
}

func fixtureLines(t *testing.T) [][]byte {
	t.Helper()
	b, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(b, &arr); err != nil {
		t.Fatalf("%s is not a JSON array: %v", goldenPath, err)
	}
	out := make([][]byte, len(arr))
	for i, r := range arr {
		out[i] = r
	}
	return out
}

// TestFixtureMatchesContract checks every envelope of the golden fixture
// against the field table of the contract document: the fields and their
// order, each value's JSON type, and each value against what the documented
// rule gives for the fixture record.
func TestFixtureMatchesContract(t *testing.T) {
	fields := docFields(t)
	kinds := docKinds(t)
	cases := fixtureCases(t)
	lines := fixtureLines(t)
	if len(lines) != len(cases) {
		t.Fatalf("%s has %d envelopes, the fixture %d records", goldenPath, len(lines), len(cases))
	}
	var docOrder []string
	for _, f := range fields {
		docOrder = append(docOrder, f.name)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, order := decodeObject(t, lines[i])
			if !reflect.DeepEqual(order, docOrder) {
				t.Fatalf("fields in the fixture:\n %s\nin the document:\n %s", strings.Join(order, ","), strings.Join(docOrder, ","))
			}
			want := expectedEnvelope(t, &c.rec, fixtureOptions(), kinds)
			if len(want) != len(fields) {
				t.Fatalf("the test computes %d fields, the document lists %d", len(want), len(fields))
			}
			for _, f := range fields {
				v, ok := got[f.name]
				if !ok {
					t.Errorf("%s: missing", f.name)
					continue
				}
				if ty := jsonType(v); !f.types[ty] {
					t.Errorf("%s: JSON type %s, the document allows %v", f.name, ty, f.types)
				}
				if n, ok := v.(json.Number); ok && strings.ContainsAny(string(n), ".eE-+") {
					t.Errorf("%s: number %s is not written as plain integer digits", f.name, n)
				}
				w, ok := want[f.name]
				if !ok {
					t.Errorf("%s: documented but the test has no expected value for it", f.name)
					continue
				}
				if f.name == "checkpointToken" {
					checkToken(t, v.(string), &c.rec)
					continue
				}
				if !reflect.DeepEqual(v, w) {
					t.Errorf("%s = %#v, want %#v", f.name, v, w)
				}
			}
			if id := got["effectId"].(string); utf16Units(id) > 256 {
				t.Errorf("effectId is %d UTF-16 units, over 256", utf16Units(id))
			}
			for _, ts := range []string{"occurredAt", "recordedAt"} {
				if s, ok := got[ts].(string); ok {
					if _, err := time.Parse(time.RFC3339Nano, s); err != nil || !strings.HasSuffix(s, "Z") {
						t.Errorf("%s %q is not RFC 3339 UTC: %v", ts, s, err)
					}
				}
			}
		})
	}
}

// TestKindTable checks the documented kind mapping against the journal's
// kinds and the code.
func TestKindTable(t *testing.T) {
	kinds := docKinds(t)
	consts := map[journal.Kind]int32{
		journal.KindChange: KindDataChange, journal.KindTxBegin: KindTxBegin, journal.KindTxCommit: KindTxCommit,
		journal.KindSchema: KindSchema, journal.KindSnapshotRead: KindSnapshotRead, journal.KindHeartbeat: KindHeartbeat,
		journal.KindAppEvent: KindAppEvent, journal.KindGap: KindGap, journal.KindCheckpoint: KindCheckpoint,
	}
	n := 0
	for k := journal.Kind(0); k < 255; k++ {
		got, err := KindFor(k)
		if !k.Valid() {
			if err == nil {
				t.Errorf("KindFor(%d) = %d for an unknown journal kind", k, got)
			}
			continue
		}
		n++
		doc, ok := kinds[k.String()]
		if !ok {
			t.Errorf("journal kind %s is missing from the kind table", k)
			continue
		}
		if err != nil || int64(got) != doc || consts[k] != got || doc != 100+int64(k) {
			t.Errorf("%s: KindFor = %d, %v; constant %d; document %d (want 100 + %d)", k, got, err, consts[k], doc, k)
		}
		if doc <= 8 {
			t.Errorf("%s: kind %d collides with Hugo's 0-8 / OmniRelay's 1-7", k, doc)
		}
	}
	if n != len(kinds) {
		t.Errorf("the document maps %d kinds, the journal defines %d", len(kinds), n)
	}
}

// TestExactBigIntegers: int64 values above 2^53 are written as exact digits.
func TestExactBigIntegers(t *testing.T) {
	for _, c := range fixtureCases(t) {
		if c.name != "edge_values" {
			continue
		}
		out, err := Render(&c.rec, fixtureOptions())
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"sequence":9007199254740993,`, `"prevSequence":9007199254740992,`, `"producerSeq":18446744073709551615}`} {
			if !bytes.Contains(out, []byte(want)) {
				t.Errorf("output lacks %s:\n%s", want, out)
			}
		}
		return
	}
	t.Fatal("no edge_values fixture")
}
