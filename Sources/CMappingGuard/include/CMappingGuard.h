#ifndef CMAPPINGGUARD_H
#define CMAPPINGGUARD_H

#include <stddef.h>

/// A file mapping whose file may shrink while it is read (another process truncates it).
/// Reading a page past the new end of the file raises SIGBUS; for a guarded range the
/// handler maps a page of zeros in its place and counts the fault instead, so the reader
/// can report the file as changed rather than crash. Faults outside every guarded range
/// go to the handler that was installed before (or the default action).

/// Guards `[base, base + length)`. Returns a slot for the other calls, or -1 when every
/// slot is taken (the range is then read unguarded, as before).
int fk_guard_mapping(const void *base, size_t length);

/// Stops guarding `slot` (before the range is unmapped).
void fk_unguard_mapping(int slot);

/// Pages of `slot` replaced by zeros since it was guarded: non-zero means the file shrank.
unsigned long fk_mapping_faults(int slot);

#endif
