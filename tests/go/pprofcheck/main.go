// Command pprofcheck is an independent judge for profgate's pprof <-> OTLP
// conversion. It reads profiles with google/pprof's own decoder, never with
// profgate's code, so a bug in our decoder cannot hide a bug in our encoder.
//
//	pprofcheck compare [-referenced-mappings] ORIGINAL CONVERTED
//	                                        same content? (exit 1 and the differences if not)
//	pprofcheck totals FILE                  "type/unit total" per sample type
//	pprofcheck gen SEED OUT                 a random valid gzipped pprof
//
// Build offline in GOPATH mode:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off go build -o pprofcheck ./tests/go/pprofcheck
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/google/pprof/profile"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: pprofcheck compare [-referenced-mappings] ORIGINAL CONVERTED")
	fmt.Fprintln(os.Stderr, "       pprofcheck totals FILE")
	fmt.Fprintln(os.Stderr, "       pprofcheck gen SEED OUT")
	os.Exit(2)
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "pprofcheck: "+format+"\n", args...)
	os.Exit(1)
}

// load parses a file (gzipped or not) and also returns its doc_url, which this
// version of the profile package does not decode.
func load(path string) (*profile.Profile, string) {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	p, err := profile.ParseData(data)
	if err != nil {
		fail("%s: %v", path, err)
	}
	docURL, err := rawDocURL(data)
	if err != nil {
		fail("%s: %v", path, err)
	}
	return p, docURL
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "compare":
		args := os.Args[2:]
		if len(args) == 3 && args[0] == "-referenced-mappings" {
			onlyReferencedMappings = true
			args = args[1:]
		}
		if len(args) != 2 {
			usage()
		}
		orig, origDoc := load(args[0])
		conv, convDoc := load(args[1])
		if err := conv.CheckValid(); err != nil {
			fail("%s: CheckValid: %v", args[1], err)
		}
		diffs := compare(orig, conv)
		if origDoc != convDoc {
			diffs = append(diffs, fmt.Sprintf("doc_url %q != %q", origDoc, convDoc))
		}
		if len(diffs) > 0 {
			for i, d := range diffs {
				if i == 20 {
					fmt.Printf("... and %d more differences\n", len(diffs)-20)
					break
				}
				fmt.Println(d)
			}
			os.Exit(1)
		}
		fmt.Printf("ok %d sample types, %d samples\n", len(orig.SampleType), len(orig.Sample))
	case "totals":
		if len(os.Args) != 3 {
			usage()
		}
		p, _ := load(os.Args[2])
		for i, st := range p.SampleType {
			var total int64
			for _, s := range p.Sample {
				total += s.Value[i]
			}
			fmt.Printf("%s/%s %d\n", st.Type, st.Unit, total)
		}
	case "gen":
		if len(os.Args) != 4 {
			usage()
		}
		seed, err := strconv.ParseInt(os.Args[2], 10, 64)
		if err != nil {
			fail("bad seed %q", os.Args[2])
		}
		if err := generate(seed, os.Args[3]); err != nil {
			fail("%v", err)
		}
	default:
		usage()
	}
}
