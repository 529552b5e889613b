// Command pyroscopego profiles itself with runtime/pprof and uploads every
// profile to a Pyroscope /ingest endpoint in the request shape of the
// pyroscope-go agent (see docs: protocols.md §4), so profgate's Pyroscope
// receiver can be tested against that shape without the agent's module
// (the build is offline, stdlib only).
//
//	pyroscopego -url http://127.0.0.1:4040 -app my-app [-tenant T]
//	            [-auth bearer:TOKEN|basic:USER:PASS|none] [-tags k=v,...]
//	            [-out DIR] [-cpu 1500ms]
//
// Uploads: cpu, heap, goroutines, mutex, block, in that order. With -out,
// each uploaded profile is written as DIR/<kind>.pprof (the exact bytes) and
// DIR/uploads.jsonl gets one line per upload (kind, query, name, from, until,
// status, sample_type_config). Exits 1 when any upload is not answered 200.
//
// Build offline in GOPATH mode:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off go build -o pyroscopego ./tests/go/pyroscopego
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

type options struct {
	url, app, tenant, auth, tags, out string
	cpu                               time.Duration
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:4040", "server address (a path prefix is kept)")
	flag.StringVar(&o.app, "app", "pyroscopego", "application name")
	flag.StringVar(&o.tenant, "tenant", "", "X-Scope-OrgID (none when empty)")
	flag.StringVar(&o.auth, "auth", "none", "bearer:TOKEN | basic:USER:PASS | none")
	flag.StringVar(&o.tags, "tags", "", "extra tags k=v,k2=v2")
	flag.StringVar(&o.out, "out", "", "directory for the uploaded bytes and uploads.jsonl")
	flag.DurationVar(&o.cpu, "cpu", 1500*time.Millisecond, "how long the CPU profile runs")
	flag.Parse()
	return o
}

func parseTags(s string) (map[string]string, error) {
	tags := map[string]string{}
	if s == "" {
		return tags, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("bad tag %q (want k=v)", kv)
		}
		tags[k] = v
	}
	return tags, nil
}

// record is one line of uploads.jsonl.
type record struct {
	Kind   string `json:"kind"`
	Query  string `json:"query"`
	Name   string `json:"name"`
	From   int64  `json:"from"`
	Until  int64  `json:"until"`
	Status int    `json:"status"`
	File   string `json:"file"`
	Bytes  int    `json:"bytes"`
	Config string `json:"config,omitempty"` // the sample_type_config part
}

func main() {
	o := parseFlags()
	tags, err := parseTags(o.tags)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	auth, err := authHeader(o.auth)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if o.out != "" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	profiles, err := collect(o.cpu)
	if err != nil {
		fmt.Fprintln(os.Stderr, "profiling:", err)
		os.Exit(1)
	}
	up := uploader{base: o.url, auth: auth, tenant: o.tenant, app: o.app, tags: tags,
		session: sessionID()}
	failed := 0
	var log []record
	for _, p := range profiles {
		rec, err := up.upload(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", p.kind, err)
			failed++
		} else if rec.Status != 200 {
			fmt.Fprintf(os.Stderr, "%s: answered %d\n", p.kind, rec.Status)
			failed++
		}
		if o.out != "" {
			rec.File = p.kind + ".pprof"
			if err := os.WriteFile(filepath.Join(o.out, rec.File), p.data, 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				failed++
			}
		}
		log = append(log, rec)
	}
	if o.out != "" {
		if err := writeLog(filepath.Join(o.out, "uploads.jsonl"), log); err != nil {
			fmt.Fprintln(os.Stderr, err)
			failed++
		}
	}
	fmt.Printf("%d uploads, %d failed\n", len(profiles), failed)
	if failed > 0 {
		os.Exit(1)
	}
}

func writeLog(path string, recs []record) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
