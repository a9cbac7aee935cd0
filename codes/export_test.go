package codes

// TamperAudit flips the low bit of byte i of the stored bytes of audit
// record seq (a negative i counts from the end), as someone with write
// access to the memory would: the tests' way to show the trail finds it.
func (s *MemStore) TamperAudit(seq uint64, i int) {
	s.auditMu.Lock()
	defer s.auditMu.Unlock()
	b := s.audit[seq-1]
	if i < 0 {
		i += len(b)
	}
	b[i] ^= 1
}
