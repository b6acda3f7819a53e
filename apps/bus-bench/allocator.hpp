#pragma once

// The allocator under the run's figures: jemalloc when the process has it
// (linked, as the apps are, or preloaded), else glibc's malloc. Memory
// figures ask whichever it is.

namespace bench {

/// "jemalloc" or "glibc malloc".
const char* allocator_name();

/// Hands the allocator's free memory back to the OS, so that the resident
/// memory counted next is what is held.
void give_back_free_memory();

/// Bytes the program holds allocated from the heap.
double heap_bytes_in_use();

} // namespace bench
