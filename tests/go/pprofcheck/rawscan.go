package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
)

// The Debian profile package predates Profile.doc_url (field 15), so these
// helpers read it, and append it, at the protobuf wire level.

func gunzipMaybe(data []byte) ([]byte, error) {
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return data, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// topLevel returns the string table and the doc_url index of an encoded
// profile.
func topLevel(data []byte) ([]string, int64, error) {
	var table []string
	var docX int64
	for len(data) > 0 {
		key, n := binary.Uvarint(data)
		if n <= 0 {
			return nil, 0, errors.New("bad field key")
		}
		data = data[n:]
		field, wire := key>>3, key&7
		switch wire {
		case 0:
			v, m := binary.Uvarint(data)
			if m <= 0 {
				return nil, 0, errors.New("bad varint")
			}
			data = data[m:]
			if field == 15 {
				docX = int64(v)
			}
		case 1:
			if len(data) < 8 {
				return nil, 0, errors.New("truncated fixed64")
			}
			data = data[8:]
		case 5:
			if len(data) < 4 {
				return nil, 0, errors.New("truncated fixed32")
			}
			data = data[4:]
		case 2:
			l, m := binary.Uvarint(data)
			if m <= 0 || l > uint64(len(data)-m) {
				return nil, 0, errors.New("bad length")
			}
			if field == 6 {
				table = append(table, string(data[m:m+int(l)]))
			}
			data = data[m+int(l):]
		default:
			return nil, 0, errors.New("unsupported wire type")
		}
	}
	return table, docX, nil
}

func rawDocURL(file []byte) (string, error) {
	data, err := gunzipMaybe(file)
	if err != nil {
		return "", err
	}
	table, docX, err := topLevel(data)
	if err != nil {
		// legacy text formats have no doc_url
		return "", nil
	}
	if docX < 0 || docX >= int64(len(table)) {
		return "", errors.New("doc_url index out of range")
	}
	if docX == 0 {
		return "", nil
	}
	return table[docX], nil
}

// appendDocURL adds url to the string table of an uncompressed encoding and
// points doc_url at it.
func appendDocURL(data []byte, url string) ([]byte, error) {
	table, _, err := topLevel(data)
	if err != nil {
		return nil, err
	}
	out := append([]byte{}, data...)
	out = binary.AppendUvarint(out, 6<<3|2)
	out = binary.AppendUvarint(out, uint64(len(url)))
	out = append(out, url...)
	out = binary.AppendUvarint(out, 15<<3)
	out = binary.AppendUvarint(out, uint64(len(table)))
	return out, nil
}
