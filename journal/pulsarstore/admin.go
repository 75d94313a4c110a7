package pulsarstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// admin is the few calls of Pulsar's admin REST API (/admin/v2) the store makes.
type admin struct {
	base    string // http://host:port
	ns      string // tenant/namespace
	http    *http.Client
	timeout time.Duration
}

func newAdmin(cfg Config) *admin {
	return &admin{
		base:    strings.TrimRight(cfg.AdminURL, "/"),
		ns:      cfg.Namespace,
		http:    &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}},
		timeout: cfg.OperationTimeout,
	}
}

// adminError is a non-2xx answer.
type adminError struct {
	method, path string
	status       int
	reason       string
}

func (e *adminError) Error() string {
	return fmt.Sprintf("pulsar admin %s %s: HTTP %d: %s", e.method, e.path, e.status, e.reason)
}

func statusOf(err error) int {
	var ae *adminError
	if errors.As(err, &ae) {
		return ae.status
	}
	return 0
}

func (a *admin) call(ctx context.Context, method, path string, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w: admin API %s: %v (check admin_url and that the broker runs)", ErrBrokerUnreachable, a.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%w: admin API %s %s: %v", ErrBrokerUnreachable, method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		reason := strings.TrimSpace(string(data))
		var r struct{ Reason string }
		if json.Unmarshal(data, &r) == nil && r.Reason != "" {
			reason = r.Reason
		}
		if len(reason) > 300 {
			reason = reason[:300] + "..."
		}
		return &adminError{method: method, path: path, status: resp.StatusCode, reason: reason}
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("pulsar admin %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

func (a *admin) nsPath(suffix string) string { return "/admin/v2/namespaces/" + a.ns + suffix }

func (a *admin) topicPath(topic, suffix string) string {
	short := topic[strings.LastIndexByte(topic, '/')+1:]
	return "/admin/v2/persistent/" + a.ns + "/" + url.PathEscape(short) + suffix
}

// prepareNamespace makes sure the namespace exists and has deduplication
// on; with manage it also sets infinite retention and keeps inactive topics.
func (a *admin) prepareNamespace(ctx context.Context, manage bool) error {
	err := a.call(ctx, http.MethodGet, a.nsPath(""), nil, nil)
	if statusOf(err) == http.StatusNotFound {
		if !manage {
			return fmt.Errorf("%w: namespace %s does not exist; create it (pulsar-admin namespaces create %s) or set manage_namespace", ErrNamespace, a.ns, a.ns)
		}
		if err = a.call(ctx, http.MethodPut, a.nsPath(""), nil, nil); err != nil && statusOf(err) != http.StatusConflict {
			return fmt.Errorf("%w: create namespace %s: %w (does tenant %s exist, and may this client administer it?)", ErrNamespace, a.ns, err, strings.Split(a.ns, "/")[0])
		}
	} else if err != nil {
		return fmt.Errorf("%w: read namespace %s: %w", ErrNamespace, a.ns, err)
	}
	var dedup *bool
	if err := a.call(ctx, http.MethodGet, a.nsPath("/deduplication"), nil, &dedup); err != nil {
		return fmt.Errorf("%w: read deduplication policy of %s: %w", ErrNamespace, a.ns, err)
	}
	if dedup == nil || !*dedup {
		if !manage {
			return fmt.Errorf("%w for namespace %s: enable it (pulsar-admin namespaces set-deduplication %s --enable) or set manage_namespace", ErrDeduplicationOff, a.ns, a.ns)
		}
		if err := a.call(ctx, http.MethodPost, a.nsPath("/deduplication"), true, nil); err != nil {
			return fmt.Errorf("%w for namespace %s and it cannot be turned on: %w (grant this client admin rights on the namespace, or run pulsar-admin namespaces set-deduplication %s --enable)", ErrDeduplicationOff, a.ns, err, a.ns)
		}
		dedup = nil
		if err := a.call(ctx, http.MethodGet, a.nsPath("/deduplication"), nil, &dedup); err != nil || dedup == nil || !*dedup {
			return fmt.Errorf("%w for namespace %s: it was turned on but reads back as off (%v)", ErrDeduplicationOff, a.ns, err)
		}
	}
	if !manage {
		return nil
	}
	var ret struct {
		Time *int64 `json:"retentionTimeInMinutes"`
		Size *int64 `json:"retentionSizeInMB"`
	}
	if err := a.call(ctx, http.MethodGet, a.nsPath("/retention"), nil, &ret); err != nil {
		return fmt.Errorf("%w: read retention of %s: %w", ErrNamespace, a.ns, err)
	}
	if ret.Time == nil || ret.Size == nil || *ret.Time != -1 || *ret.Size != -1 {
		body := map[string]int64{"retentionTimeInMinutes": -1, "retentionSizeInMB": -1}
		if err := a.call(ctx, http.MethodPost, a.nsPath("/retention"), body, nil); err != nil {
			return fmt.Errorf("%w: set infinite retention on %s (without it Pulsar deletes journal entries): %w", ErrNamespace, a.ns, err)
		}
	}
	var inactive struct {
		DeleteWhileInactive *bool `json:"deleteWhileInactive"`
	}
	if err := a.call(ctx, http.MethodGet, a.nsPath("/inactiveTopicPolicies"), nil, &inactive); err != nil {
		return fmt.Errorf("%w: read inactive topic policy of %s: %w", ErrNamespace, a.ns, err)
	}
	if inactive.DeleteWhileInactive == nil || *inactive.DeleteWhileInactive {
		body := map[string]any{"inactiveTopicDeleteMode": "delete_when_no_subscriptions", "maxInactiveDurationSeconds": 60, "deleteWhileInactive": false}
		if err := a.call(ctx, http.MethodPost, a.nsPath("/inactiveTopicPolicies"), body, nil); err != nil {
			return fmt.Errorf("%w: keep inactive topics in %s (Pulsar would delete idle journals): %w", ErrNamespace, a.ns, err)
		}
	}
	return nil
}

// callRetrying is call, retried while the broker answers 500 or 503 (for
// instance "Not enough non-faulty bookies" while its bookie restarts), with
// backoff from 250 ms to 2 s, for up to 30 s or until ctx ends.
func (a *admin) callRetrying(ctx context.Context, method, path string, body, out any) error {
	deadline := time.Now().Add(30 * time.Second)
	wait := 250 * time.Millisecond
	for {
		err := a.call(ctx, method, path, body, out)
		s := statusOf(err)
		if err == nil || (s != http.StatusInternalServerError && s != http.StatusServiceUnavailable) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// ensureTopic creates topic as a non-partitioned persistent topic if
// missing, and checks that it is not partitioned and has deduplication on.
func (a *admin) ensureTopic(ctx context.Context, topic string) error {
	var meta struct {
		Partitions int `json:"partitions"`
	}
	if err := a.call(ctx, http.MethodGet, a.topicPath(topic, "/partitions"), nil, &meta); err != nil && statusOf(err) != http.StatusNotFound {
		return fmt.Errorf("read metadata of %s: %w", topic, err)
	}
	if meta.Partitions > 0 {
		return fmt.Errorf("%w: %s has %d partitions; a journal needs one totally ordered non-partitioned topic (delete it or choose another topic_prefix)", ErrTopicPartitioned, topic, meta.Partitions)
	}
	if err := a.callRetrying(ctx, http.MethodPut, a.topicPath(topic, ""), nil, nil); err != nil && statusOf(err) != http.StatusConflict {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	var on *bool
	if err := a.call(ctx, http.MethodGet, a.topicPath(topic, "/deduplicationEnabled?applied=true"), nil, &on); err != nil {
		// Brokers without topic-level policies answer 405/500 here; the
		// namespace check at Open stands then.
		if s := statusOf(err); s == http.StatusMethodNotAllowed || s == http.StatusInternalServerError || s == http.StatusNotImplemented {
			return nil
		}
		return fmt.Errorf("read deduplication of %s: %w", topic, err)
	}
	if on != nil && !*on {
		return fmt.Errorf("%w for topic %s (a topic-level policy overrides the namespace): run pulsar-admin topics remove-deduplication %s", ErrDeduplicationOff, topic, topic)
	}
	return nil
}

// topics lists the non-partitioned persistent topics of the namespace (full names).
func (a *admin) topics(ctx context.Context) ([]string, error) {
	var out []string
	if err := a.call(ctx, http.MethodGet, "/admin/v2/persistent/"+a.ns, nil, &out); err != nil {
		return nil, fmt.Errorf("list topics of %s: %w", a.ns, err)
	}
	sort.Strings(out)
	return out, nil
}

// publishers names the producers connected to topic, for messages
// ("name@address"); it never fails.
func (a *admin) publishers(ctx context.Context, topic string) []string {
	var stats struct {
		Publishers []struct {
			ProducerName string `json:"producerName"`
			Address      string `json:"address"`
		} `json:"publishers"`
	}
	if err := a.call(ctx, http.MethodGet, a.topicPath(topic, "/stats"), nil, &stats); err != nil {
		return []string{"unknown: " + err.Error()}
	}
	out := make([]string, 0, len(stats.Publishers))
	for _, p := range stats.Publishers {
		out = append(out, p.ProducerName+"@"+p.Address)
	}
	return out
}
