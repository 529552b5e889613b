/*
 * `profgate convert`: converts one profile file between pprof and OTLP.
 *
 *   profgate convert [--to otlp|otlp-json|pprof] [--service NAME]
 *                    [--attr key=value]... IN OUT
 *
 * IN and OUT may be "-" (stdin / stdout). The input format is sniffed from the
 * bytes, never from the file name: gzip is removed first, then a leading '{'
 * means OTLP/JSON, a top-level pprof string table means pprof, and otherwise
 * an OTLP v1.10 protobuf request is tried before pprof. Without --to, pprof
 * becomes OTLP (protobuf) and OTLP becomes pprof. pprof output is gzipped;
 * when the input yields several pprof documents, OUT is a directory (created
 * when missing) holding OUT/<index>-<first sample type>.pb.gz. --service and
 * --attr set resource attributes of OTLP output.
 *
 * Exit status: 0 on success, 1 when the input cannot be read or converted or
 * the output cannot be written (the message names the problem), 2 on usage
 * errors.
 */
#ifndef PG_APP_CONVERT_CMD_H
#define PG_APP_CONVERT_CMD_H

/* argv[0] is "convert"; returns the process exit status. */
int pg_convert_main(int argc, char **argv);

#endif
