package badgerstore

import (
	"fmt"
	"log/slog"
	"time"
)

// Config configures a Badger-backed journal store.
type Config struct {
	// Dir is the data dir. The Badger files live in Dir/journal; the
	// signing key (if generated) in Dir/signing.key and Dir/signing.pub.
	Dir string
	// MustExist makes Open fail with journal.ErrNoDataDir instead of creating a new store.
	MustExist bool
	// ReadOnly opens the store for reading only (no appends, no new checkpoints).
	ReadOnly bool
	// EncryptionKey, when set, encrypts everything at rest with AES (16, 24 or
	// 32 bytes). A store created with a key can only be opened with it.
	EncryptionKey []byte
	// KeyRotation is how often Badger rotates its data keys under the master key.
	KeyRotation time.Duration
	// SigningKey is a note private key ("PRIVATE+KEY+..."); when empty, the
	// key in Dir/signing.key is used, generated on first start.
	SigningKey string
	// LogName names the signing key and prefixes checkpoint origins ("cairn/<stream>").
	LogName string
	// CheckpointInterval is the most time between automatically signed checkpoints while appending.
	CheckpointInterval time.Duration
	// ValueThreshold is Badger's value-log threshold: records at least this
	// large go to the append-only value log and only a pointer goes through
	// the LSM tree. A journal never deletes, so the value log suits it.
	ValueThreshold int64
	// MemTableSize, NumMemtables and BlockCacheSize bound Badger's memory:
	// memtables hold keys and value pointers only (values go to the value
	// log), so small ones suffice; the block cache speeds up reads.
	MemTableSize   int64
	NumMemtables   int
	BlockCacheSize int64
	// MaxGroupEntries bounds the entries committed under one sync.
	MaxGroupEntries int
	// MaxEntryBytes bounds one entry's encoded size.
	MaxEntryBytes int
	// Logger receives store logs (nil: discarded).
	Logger *slog.Logger
}

// DefaultConfig returns the defaults for a store in dir.
func DefaultConfig(dir string) Config {
	return Config{
		Dir:                dir,
		KeyRotation:        10 * 24 * time.Hour,
		LogName:            "cairn",
		CheckpointInterval: time.Second,
		ValueThreshold:     128,
		MemTableSize:       16 << 20,
		NumMemtables:       2,
		BlockCacheSize:     16 << 20,
		MaxGroupEntries:    20000,
		MaxEntryBytes:      64 << 20,
	}
}

// Validate reports the first unusable setting.
func (c Config) Validate() error {
	switch {
	case c.Dir == "":
		return fmt.Errorf("badgerstore config: data dir is empty (set --data-dir or data_dir)")
	case len(c.EncryptionKey) != 0 && len(c.EncryptionKey) != 16 && len(c.EncryptionKey) != 24 && len(c.EncryptionKey) != 32:
		return fmt.Errorf("badgerstore config: encryption key is %d bytes; AES needs 16, 24 or 32", len(c.EncryptionKey))
	case c.KeyRotation <= 0:
		return fmt.Errorf("badgerstore config: key rotation %v must be positive", c.KeyRotation)
	case c.LogName == "":
		return fmt.Errorf("badgerstore config: log name is empty")
	case c.CheckpointInterval <= 0:
		return fmt.Errorf("badgerstore config: checkpoint interval %v must be positive", c.CheckpointInterval)
	case c.ValueThreshold < 1 || c.ValueThreshold > 1<<20:
		return fmt.Errorf("badgerstore config: value threshold %d must be between 1 and 1 MiB", c.ValueThreshold)
	case c.MemTableSize < 1<<20 || c.NumMemtables < 1 || c.BlockCacheSize < 0:
		return fmt.Errorf("badgerstore config: memtable size %d (min 1 MiB), memtables %d (min 1), block cache %d (min 0)", c.MemTableSize, c.NumMemtables, c.BlockCacheSize)
	case c.MaxGroupEntries < 1:
		return fmt.Errorf("badgerstore config: max group entries %d must be at least 1", c.MaxGroupEntries)
	case c.MaxEntryBytes < 1024:
		return fmt.Errorf("badgerstore config: max entry bytes %d must be at least 1024", c.MaxEntryBytes)
	}
	return nil
}
