package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// typeConfig is one entry of the sample_type_config part, as the agent
// marshals it (empty fields left out).
type typeConfig struct {
	Units       string `json:"units,omitempty"`
	Aggregation string `json:"aggregation,omitempty"`
	DisplayName string `json:"display-name,omitempty"`
	Sampled     bool   `json:"sampled,omitempty"`
	Cumulative  bool   `json:"cumulative,omitempty"`
}

// shape is what the agent sends for one kind of profile.
type shape struct {
	scope       string // otel.scope.name
	units       string
	aggregation string
	sampleRate  int
	config      map[string]typeConfig // nil: no sample_type_config part
}

var shapes = map[string]shape{
	"cpu": {scope: "com.grafana.pyroscope/go", units: "samples", aggregation: "sum", sampleRate: 100},
	"goroutines": {scope: "com.grafana.pyroscope/go", units: "goroutines", aggregation: "average",
		config: map[string]typeConfig{
			"goroutine": {Units: "goroutines", Aggregation: "average", DisplayName: "goroutines"}}},
	"heap": {scope: "com.grafana.pyroscope/godeltaprof", sampleRate: 100,
		config: map[string]typeConfig{
			"alloc_objects": {Units: "objects"},
			"alloc_space":   {Units: "bytes"},
			"inuse_objects": {Units: "objects", Aggregation: "average"},
			"inuse_space":   {Units: "bytes", Aggregation: "average"}}},
	"mutex": {scope: "com.grafana.pyroscope/godeltaprof",
		config: map[string]typeConfig{
			"contentions": {Units: "lock_samples", DisplayName: "mutex_count"},
			"delay":       {Units: "lock_nanoseconds", DisplayName: "mutex_duration"}}},
	"block": {scope: "com.grafana.pyroscope/godeltaprof",
		config: map[string]typeConfig{
			"contentions": {Units: "lock_samples", DisplayName: "block_count"},
			"delay":       {Units: "lock_nanoseconds", DisplayName: "block_duration"}}},
}

type uploader struct {
	base, auth, tenant, app, session string
	tags                             map[string]string
}

func authHeader(mode string) (string, error) {
	kind, rest, _ := strings.Cut(mode, ":")
	switch kind {
	case "none", "":
		return "", nil
	case "bearer":
		return "Bearer " + rest, nil
	case "basic":
		if !strings.Contains(rest, ":") {
			return "", fmt.Errorf("basic auth wants basic:USER:PASS")
		}
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(rest)), nil
	}
	return "", fmt.Errorf("unknown auth mode %q", mode)
}

// sessionID is 16 hex digits, like the agent's per-process session id.
func sessionID() string {
	r := rand.New(rand.NewSource(time.Now().UnixNano()))
	return fmt.Sprintf("%016x", r.Uint64())
}

// name is app{k=v,...} with sorted keys; user tags win over the agent's.
func (u *uploader) name(scope string) string {
	all := map[string]string{
		"__session_id__":          u.session,
		"otel.scope.name":         scope,
		"process.runtime.name":    "go",
		"process.runtime.version": runtime.Version(),
	}
	for k, v := range u.tags {
		all[k] = v
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + all[k]
	}
	return u.app + "{" + strings.Join(parts, ",") + "}"
}

func filePart(w *multipart.Writer, field, filename string, data []byte) error {
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition",
		fmt.Sprintf(`form-data; name="%s"; filename="%s"`, field, filename))
	h.Set("Content-Type", "application/octet-stream")
	pw, err := w.CreatePart(h)
	if err == nil {
		_, err = pw.Write(data)
	}
	return err
}

func body(p profile, s shape, cfg []byte) (*bytes.Buffer, string, error) {
	buf := &bytes.Buffer{}
	w := multipart.NewWriter(buf)
	if err := filePart(w, "profile", "profile.pprof", p.data); err != nil {
		return nil, "", err
	}
	if s.config != nil {
		if err := filePart(w, "sample_type_config", "sample_type_config.json", cfg); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf, w.FormDataContentType(), nil
}

func (u *uploader) upload(p profile) (record, error) {
	s := shapes[p.kind]
	q := url.Values{}
	q.Set("name", u.name(s.scope))
	q.Set("from", strconv.FormatInt(p.from.UnixNano(), 10))
	q.Set("until", strconv.FormatInt(p.until.UnixNano(), 10))
	q.Set("units", s.units)
	q.Set("aggregationType", s.aggregation)
	q.Set("sampleRate", strconv.Itoa(s.sampleRate))
	q.Set("spyName", "gospy")
	rec := record{Kind: p.kind, Query: q.Encode(), Name: q.Get("name"), From: p.from.UnixNano(),
		Until: p.until.UnixNano(), Bytes: len(p.data)}
	var cfg []byte
	if s.config != nil {
		var err error
		if cfg, err = json.Marshal(s.config); err != nil {
			return rec, err
		}
		rec.Config = string(cfg)
	}
	b, ctype, err := body(p, s, cfg)
	if err != nil {
		return rec, err
	}
	target, err := url.Parse(u.base)
	if err != nil {
		return rec, err
	}
	target.Path = path.Join(target.Path, "ingest")
	target.RawQuery = rec.Query
	req, err := http.NewRequest("POST", target.String(), b)
	if err != nil {
		return rec, err
	}
	req.Header.Set("Content-Type", ctype)
	if u.auth != "" {
		req.Header.Set("Authorization", u.auth)
	}
	if u.tenant != "" {
		req.Header.Set("X-Scope-OrgID", u.tenant)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return rec, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	rec.Status = resp.StatusCode
	if resp.StatusCode != 200 {
		return rec, fmt.Errorf("HTTP %d: %s", resp.StatusCode, msg)
	}
	return rec, nil
}
