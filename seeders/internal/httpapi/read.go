package httpapi

import "io"

// ReadBounded reads a whole answer of at most limit bytes; over says it
// is larger (then nothing is returned). The limit bounds memory too: an
// answer whose length is known is read into one buffer of that length;
// one of unknown length (chunked, maybe never ending) is read in chunks
// that are joined only once it ended within the limit, where io.ReadAll's
// doubling copies took a never-ending answer to 1.2 GB on the way to 512
// MiB.
func ReadBounded(r io.Reader, length, limit int64) (data []byte, over bool, err error) {
	if length > limit {
		return nil, true, nil
	}
	if length >= 0 {
		data = make([]byte, length)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, false, err
		}
		var one [1]byte
		if n, _ := r.Read(one[:]); n > 0 {
			return nil, true, nil
		}
		return data, false, nil
	}
	var chunks [][]byte
	var total int64
	size := int64(64 << 10)
	for {
		chunk := make([]byte, min(size, limit+1-total))
		n, err := io.ReadFull(r, chunk)
		total += int64(n)
		if n > 0 {
			chunks = append(chunks, chunk[:n])
		}
		if total > limit {
			return nil, true, nil
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, false, err
		}
		size = min(2*size, 16<<20)
	}
	if len(chunks) == 1 {
		return chunks[0], false, nil
	}
	data = make([]byte, 0, total)
	for _, c := range chunks {
		data = append(data, c...)
	}
	return data, false, nil
}
