package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

// profile is one profile ready to upload.
type profile struct {
	kind        string // cpu, heap, goroutines, mutex, block
	data        []byte // gzipped pprof as runtime/pprof wrote it
	from, until time.Time
}

var sink [][]byte // keeps allocations alive for the in-use heap profile

// work runs CPU, allocation, lock contention and channel blocking under
// pprof.Do labels until stop is closed.
func work(stop <-chan struct{}, wg *sync.WaitGroup) {
	var mu sync.Mutex
	ch := make(chan int)
	run := func(name string, fn func()) {
		wg.Add(1)
		go pprof.Do(context.Background(), pprof.Labels("workload", name), func(context.Context) {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					fn()
				}
			}
		})
	}
	run("cpu", func() {
		h := sha256.Sum256([]byte("profgate"))
		for i := 0; i < 2000; i++ {
			h = sha256.Sum256(h[:])
		}
	})
	run("alloc", func() {
		b := make([]byte, 32<<10)
		mu.Lock()
		sink = append(sink, b)
		if len(sink) > 256 {
			sink = sink[1:]
		}
		mu.Unlock()
	})
	for i := 0; i < 3; i++ {
		run("mutex", func() {
			mu.Lock()
			time.Sleep(200 * time.Microsecond)
			mu.Unlock()
		})
	}
	run("block-send", func() {
		select {
		case ch <- 1:
		case <-time.After(time.Millisecond):
		}
	})
	run("block-recv", func() {
		time.Sleep(500 * time.Microsecond)
		select {
		case <-ch:
		case <-time.After(time.Millisecond):
		}
	})
}

func lookup(name string) ([]byte, error) {
	var buf bytes.Buffer
	if err := pprof.Lookup(name).WriteTo(&buf, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// collect profiles the workload: a CPU profile of length d, then heap,
// goroutine, mutex and block snapshots taken while the workload still runs.
func collect(d time.Duration) ([]profile, error) {
	runtime.SetMutexProfileFraction(1)
	runtime.SetBlockProfileRate(1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(stop)
	work(stop, &wg)

	var cpu bytes.Buffer
	start := time.Now()
	if err := pprof.StartCPUProfile(&cpu); err != nil {
		return nil, err
	}
	time.Sleep(d)
	pprof.StopCPUProfile()
	out := []profile{{kind: "cpu", data: cpu.Bytes(), from: start, until: time.Now()}}
	// the agent forces a GC so the in-use numbers are current
	runtime.GC()
	for _, k := range []struct{ kind, name string }{
		{"heap", "heap"}, {"goroutines", "goroutine"}, {"mutex", "mutex"}, {"block", "block"},
	} {
		from := time.Now()
		data, err := lookup(k.name)
		if err != nil {
			return nil, err
		}
		out = append(out, profile{kind: k.kind, data: data, from: start, until: from})
	}
	return out, nil
}
