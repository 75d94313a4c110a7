package pulsarstore

import (
	"errors"
	"regexp"
)

// Errors of this backend. The journal package's sentinels are used where
// they fit (journal.ErrCorrupt for topics that do not chain,
// journal.ErrStoreFailed for a stream poisoned by a failed send).
var (
	// ErrBrokerUnreachable: the admin API or the broker did not answer.
	ErrBrokerUnreachable = errors.New("Pulsar broker unreachable")
	// ErrDeduplicationOff: message deduplication is off for the namespace or
	// a topic and could not be turned on. Without it a reconnecting producer
	// can write an entry twice.
	ErrDeduplicationOff = errors.New("Pulsar message deduplication is off")
	// ErrNamespace: the namespace is missing or its policies cannot be set.
	ErrNamespace = errors.New("Pulsar namespace problem")
	// ErrTopicPartitioned: a stream's topic exists as a partitioned topic.
	ErrTopicPartitioned = errors.New("stream topic is partitioned")
	// ErrNotWriter: this store does not hold the stream's exclusive producer
	// (AcquireOnAppend is off, or the stream was released).
	ErrNotWriter = errors.New("this node is not the stream's writer")
	// ErrTakenOver: another writer took the stream (the producer was fenced,
	// or the topic holds an entry this store did not send).
	ErrTakenOver = errors.New("another writer took over the stream")
)

var topicNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
