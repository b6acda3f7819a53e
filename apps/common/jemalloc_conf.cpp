// jemalloc's options for the apps that link it (bus_use_jemalloc in
// apps/CMakeLists.txt). jemalloc reads this symbol once, when it starts;
// MALLOC_CONF in the environment overrides any of them.
//
// - thp:always: jemalloc asks the kernel for transparent huge pages
//   (madvise) on the memory it maps. A log in memory keeps growing, and
//   every fresh 4 KiB page costs a fault: about 10 us on this project's VM
//   (bus-bench prints the figure), so that faults took a fifth of the memory
//   node's CPU. With huge pages the node ran 1 M events in 1.6 s instead of
//   2.0 s (docs/benchmarks.md, "Huge pages for the apps' memory").
// - percpu_arena:percpu: one arena per CPU instead of four. Each arena
//   keeps partly used huge pages of its own; with four per CPU the node's
//   peak RSS grew by 15 %, with one by about 8 %.

extern "C" {

// NOLINTNEXTLINE: jemalloc finds its options under this name.
const char* malloc_conf = "thp:always,percpu_arena:percpu";

} // extern "C"
