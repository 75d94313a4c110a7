package pulsarstore

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairnlog/cairn/journal"
)

// Config configures a Pulsar-backed journal store.
type Config struct {
	// ServiceURL is the broker's binary protocol URL (pulsar://host:6650).
	ServiceURL string
	// AdminURL is the broker's web service URL (http://host:8080), used to
	// check and set namespace policies, create topics and list streams.
	AdminURL string
	// Namespace is "tenant/namespace"; every stream is a topic in it. Give
	// the journal a namespace of its own (default public/cairn, created by
	// Open when ManageNamespace is set): every topic in it whose name is a
	// stream name is taken for a journal.
	Namespace string
	// TopicPrefix is put in front of a stream name to make its topic name
	// (default empty: the topic is named like the stream). Use a prefix when
	// the namespace holds other topics.
	TopicPrefix string
	// ManageNamespace lets Open create the namespace if missing and set its
	// policies (deduplication on, infinite retention, no deletion of
	// inactive topics). When false, Open only checks deduplication and
	// refuses a namespace without it.
	ManageNamespace bool

	// Dir is this node's local directory: Dir/cache holds the index (seq ->
	// message id, Merkle nodes, dedup state), which can always be deleted:
	// it is rebuilt from the topics. Dir/signing.key is the default signing key.
	Dir string
	// SigningKey is a note private key ("PRIVATE+KEY+..."). All nodes of a
	// deployment must share it, so that every checkpoint verifies with one key.
	SigningKey string
	// SigningKeyFile names a file holding the signing key (used when
	// SigningKey is empty). When both are empty, Dir/signing.key is used,
	// generated on first start: fine for one node, wrong for several.
	SigningKeyFile string
	// LogName names the signing key and prefixes checkpoint origins ("cairn/<stream>").
	LogName string
	// CheckpointInterval is the most time between automatically signed
	// checkpoints while appending.
	CheckpointInterval time.Duration

	// MaxEntryBytes bounds one entry's encoded size; it must stay under the
	// broker's maxMessageSize (5 MiB by default), as batching and chunking are off.
	MaxEntryBytes int
	// MaxGroupEntries bounds the entries the committer takes in one round.
	MaxGroupEntries int
	// MaxPendingMessages and MaxPendingBytes bound the messages sent and
	// not yet acknowledged per stream; appends wait (back-pressure) while
	// either is reached.
	MaxPendingMessages int
	MaxPendingBytes    int64
	// ReceiverQueueSize is the prefetch (in messages) of the readers that
	// serve Read and rebuild the index; with large entries, lower it.
	ReceiverQueueSize int

	// AcquireOnAppend makes Append wait for exclusive write access to a
	// stream it does not hold yet (bounded by the caller's context). When
	// false, Append on such a stream fails with ErrNotWriter and only
	// AcquireStream takes a stream.
	AcquireOnAppend bool
	// Follow keeps the index of streams written by other nodes up to date
	// by tailing their topics, so Head, Wait and Read follow the writer,
	// and a takeover only has to read the last few entries.
	Follow bool
	// DiscoverInterval is how often Wait on a stream unknown to this node
	// looks for its topic (another node may create it).
	DiscoverInterval time.Duration

	// OperationTimeout bounds admin calls, lookups and reader set-up.
	OperationTimeout time.Duration
	// ReconnectMaxBackoff caps the wait between reconnection attempts of
	// producers and readers after the broker went away.
	ReconnectMaxBackoff time.Duration
	// AckTimeout bounds how long appends wait for the broker's
	// acknowledgements (the client resends across reconnects by itself);
	// past it the stream's writer fails and appends return
	// journal.ErrStoreFailed until AcquireStream.
	AckTimeout time.Duration

	// Logger receives store logs (nil: discarded); the Pulsar client's own
	// logs go to it too, at their level.
	Logger *slog.Logger
	// Metrics receives the Pulsar client's metrics (nil: a private registry).
	Metrics prometheus.Registerer
}

// DefaultConfig returns the defaults for a store in dir talking to a broker
// at serviceURL (binary protocol) and adminURL (web service).
func DefaultConfig(serviceURL, adminURL, dir string) Config {
	return Config{
		ServiceURL:          serviceURL,
		AdminURL:            adminURL,
		Namespace:           "public/cairn",
		ManageNamespace:     true,
		Dir:                 dir,
		LogName:             "cairn",
		CheckpointInterval:  time.Second,
		MaxEntryBytes:       4 << 20,
		MaxGroupEntries:     10000,
		MaxPendingMessages:  10000,
		MaxPendingBytes:     64 << 20,
		ReceiverQueueSize:   1000,
		AcquireOnAppend:     true,
		Follow:              true,
		DiscoverInterval:    time.Second,
		OperationTimeout:    30 * time.Second,
		ReconnectMaxBackoff: 2 * time.Second,
		AckTimeout:          2 * time.Minute,
	}
}

// Validate reports the first unusable setting.
func (c Config) Validate() error {
	u, err := url.Parse(c.ServiceURL)
	switch {
	case c.ServiceURL == "" || err != nil || (u.Scheme != "pulsar" && u.Scheme != "pulsar+ssl") || u.Host == "":
		return fmt.Errorf("pulsarstore config: service URL %q is not pulsar://host:port (set pulsar.service_url)", c.ServiceURL)
	}
	if u, err := url.Parse(c.AdminURL); c.AdminURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("pulsarstore config: admin URL %q is not http://host:port (set pulsar.admin_url)", c.AdminURL)
	}
	parts := strings.Split(c.Namespace, "/")
	switch {
	case len(parts) != 2 || !topicNameRE.MatchString(parts[0]) || !topicNameRE.MatchString(parts[1]):
		return fmt.Errorf("pulsarstore config: namespace %q is not tenant/namespace", c.Namespace)
	case c.TopicPrefix != "" && !topicNameRE.MatchString(c.TopicPrefix):
		return fmt.Errorf("pulsarstore config: topic prefix %q may hold only letters, digits, '.', '_' and '-'", c.TopicPrefix)
	case c.Dir == "":
		return fmt.Errorf("pulsarstore config: data dir is empty (set --data-dir or data_dir)")
	case c.LogName == "":
		return fmt.Errorf("pulsarstore config: log name is empty")
	case c.CheckpointInterval <= 0:
		return fmt.Errorf("pulsarstore config: checkpoint interval %v must be positive", c.CheckpointInterval)
	case c.MaxEntryBytes < 1024:
		return fmt.Errorf("pulsarstore config: max entry bytes %d must be at least 1024", c.MaxEntryBytes)
	case c.MaxGroupEntries < 1:
		return fmt.Errorf("pulsarstore config: max group entries %d must be at least 1", c.MaxGroupEntries)
	case c.MaxPendingMessages < 1 || c.MaxPendingBytes < 1 || c.ReceiverQueueSize < 1:
		return fmt.Errorf("pulsarstore config: max pending messages %d, max pending bytes %d and receiver queue size %d must be at least 1", c.MaxPendingMessages, c.MaxPendingBytes, c.ReceiverQueueSize)
	case c.DiscoverInterval <= 0 || c.OperationTimeout <= 0 || c.ReconnectMaxBackoff <= 0 || c.AckTimeout <= 0:
		return fmt.Errorf("pulsarstore config: discover interval, operation timeout, reconnect backoff and ack timeout must be positive")
	}
	return nil
}

// EntriesTopic is the full name of the topic holding stream's entries.
func (c Config) EntriesTopic(stream string) string {
	return "persistent://" + c.Namespace + "/" + c.TopicPrefix + stream
}

// CheckpointTopic is the full name of the topic holding stream's signed
// checkpoints. '=' cannot occur in a stream name, so it never names a stream.
func (c Config) CheckpointTopic(stream string) string {
	return c.EntriesTopic(stream) + checkpointSuffix
}

const checkpointSuffix = "=checkpoints"

// streamOfTopic maps a topic name (short or full) back to its stream, or "".
func (c Config) streamOfTopic(topic string) string {
	short := topic[strings.LastIndexByte(topic, '/')+1:]
	if !strings.HasPrefix(short, c.TopicPrefix) {
		return ""
	}
	name := short[len(c.TopicPrefix):]
	if validStream(name) != nil {
		return ""
	}
	return name
}

// partitionSuffix is how Pulsar names the partitions of a partitioned
// topic; a stream named like that would be taken for a partition.
var partitionSuffix = regexp.MustCompile(`-partition-[0-9]+$`)

// validStream checks a stream name for the journal and for Pulsar.
func validStream(name string) error {
	if err := journal.ValidateStreamName(name); err != nil {
		return err
	}
	if partitionSuffix.MatchString(name) {
		return fmt.Errorf("%w: %q ends like a Pulsar topic partition (-partition-N); choose another name", journal.ErrBadStreamName, name)
	}
	return nil
}

// loadSigningKey returns the signing key text: the configured key, the key
// file, or Dir/signing.key (generated when missing).
func (c Config) loadSigningKey(log *slog.Logger) (string, error) {
	if c.SigningKey != "" {
		return c.SigningKey, nil
	}
	if c.SigningKeyFile != "" {
		b, err := os.ReadFile(c.SigningKeyFile)
		if err != nil {
			return "", fmt.Errorf("%w: read signing key file: %v (every node needs the same key file)", journal.ErrBadSigningKey, err)
		}
		return string(b), nil
	}
	path := filepath.Join(c.Dir, "signing.key")
	b, err := os.ReadFile(path)
	if err == nil {
		return string(b), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read signing key %s: %w", path, err)
	}
	skey, vkey, err := journal.GenerateSigningKey(c.LogName)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(skey+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write signing key %s: %w", path, err)
	}
	if err := os.WriteFile(filepath.Join(c.Dir, "signing.pub"), []byte(vkey+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("write public key: %w", err)
	}
	log.Warn("generated a new checkpoint signing key; other nodes writing this namespace must use the same key (signing_key_file)", "path", path)
	return skey, nil
}
