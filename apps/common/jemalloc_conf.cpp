// jemalloc's options for the apps that link it (bus_use_jemalloc in
// apps/CMakeLists.txt). jemalloc reads this symbol once, when it starts;
// MALLOC_CONF in the environment overrides any of them.
//
// - thp:always: jemalloc asks the kernel for transparent huge pages
//   (madvise) on the memory it maps. A log in memory keeps growing, and
//   every fresh 4 KiB page costs a fault: about 10 us on this project's VM
//   (bus-bench prints the figure), so that faults took a fifth of the memory
//   node's CPU. With huge pages the node ran 1 M events in 1.6 s instead of
//   2.0 to 2.3 s (docs/benchmarks.md, "Fresh memory: huge pages and the latency
//   tail").
// - percpu_arena:percpu: one arena per CPU instead of four. Each arena
//   keeps partly used huge pages of its own: with four per CPU the node's
//   peak RSS grew by 15 %, with one by 7 to 14 %.
// - background_thread:true: jemalloc returns unused dirty pages to the OS
//   from a thread of its own instead of inside the malloc or free that
//   finds them due, which is an actor's worker. Between projector nodes
//   the steady p99 fell in each of six paired rounds (2.2 to 10.2 ms
//   against 4.9 to 24.8 ms), at the same throughput and node times
//   (docs/benchmarks.md, "Projector nodes on jemalloc").

extern "C" {

// NOLINTNEXTLINE: jemalloc finds its options under this name.
const char* malloc_conf = "thp:always,percpu_arena:percpu,background_thread:true";

} // extern "C"
