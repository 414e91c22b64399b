package definitions

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
)

// Digest identifies a document's content: the same definitions give the
// same digest whatever their order. Each object is hashed on its own, in
// canonical form, and the hashes are added up, so no sorting is needed.
func Digest(d *Document) string { return DigestNormalized(Normalize(d)) }

// DigestNormalized is Digest of a document Normalize or NormalizeShared
// returned: both give the same digest.
func DigestNormalized(n *Document) string {
	var sum [sha256.Size]byte
	var b bytes.Buffer
	w := &compactWriter{b: &b, canonical: true}
	// An object NormalizeShared left unfilled is written as Filled gives
	// it, through one reused copy a kind (no copy an object).
	var user User
	var queue Queue
	for _, k := range Kinds {
		for o := range n.All(k) {
			switch v := o.(type) {
			case *User:
				if v.Limits == nil {
					user = *v
					user.Limits = noLimits
					o = &user
				}
			case *Queue:
				if args, typed := n.queueArguments(v); v.Type != "" || !typed {
					queue = *v
					queue.Type, queue.Arguments = "", args
					o = &queue
				}
			}
			b.Reset()
			b.WriteString(string(k))
			w.object(o) // writeCompact(treeOf(o)), without the tree
			h := sha256.Sum256(b.Bytes())
			carry := 0
			for i := len(sum) - 1; i >= 0; i-- {
				v := int(sum[i]) + int(h[i]) + carry
				sum[i], carry = byte(v), v>>8
			}
		}
	}
	return hex.EncodeToString(sum[:])
}
