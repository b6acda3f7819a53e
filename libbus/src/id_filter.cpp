#include "internal/id_filter.hpp"

#include <algorithm>
#include <new>
#include <sys/mman.h>

namespace bus::internal {

namespace {

constexpr std::size_t bits_per_id = 12;
constexpr std::size_t min_capacity = 1 << 16;
// A new stage takes this many times the ids of all stages before it, so
// that the total capacity quadruples.
constexpr std::size_t growth = 3;

// Odd constants, one per word of a block: each picks that word's bit from
// the same 32 hash bits (the "split block" Bloom filter of Impala/Parquet).
constexpr std::uint32_t salts[8] = {0x47b6137bu, 0x44974d91u, 0x8824ad5bu, 0xa2b7289du,
                                    0x705495c7u, 0x2df1424bu, 0x9efc4947u, 0x5c6bfb31u};

// The logs' hashes come from hash_string, the tests' from std::hash:
// mixing them again makes every bit count for the block choice and the
// bits within it.
std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

std::size_t block_of(std::uint64_t m, std::size_t blocks) noexcept {
  // The high half picks the block (any count of blocks, no modulo).
  return static_cast<std::size_t>(((m >> 32) * blocks) >> 32);
}

std::uint64_t bit_of(std::uint64_t m, int word) noexcept {
  auto x = static_cast<std::uint32_t>(m) * salts[word];
  return std::uint64_t{1} << (x >> 26);
}

} // namespace

void id_filter::unmap::operator()(block* p) const noexcept {
  ::munmap(p, bytes);
}

id_filter::id_filter(std::size_t first_capacity) {
  stages_.push_back(make_stage(std::max(first_capacity, min_capacity)));
}

id_filter::stage id_filter::make_stage(std::size_t capacity) {
  stage s;
  auto blocks = std::max<std::size_t>(1, (capacity * bits_per_id + 511) / 512);
  // Blocks are picked with 32 bits of hash: cap the count there (some
  // 2^32 blocks, far beyond any log this filter serves).
  blocks = std::min<std::size_t>(blocks, std::size_t{1} << 32);
  auto bytes = blocks * sizeof(block);
  auto* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
  if (p == MAP_FAILED)
    throw std::bad_alloc{};
  s.blocks = std::unique_ptr<block[], unmap>{static_cast<block*>(p), unmap{bytes}};
  s.block_count = blocks;
  s.capacity = capacity;
  return s;
}

void id_filter::add(std::uint64_t h) {
  if (stages_.back().size >= stages_.back().capacity)
    stages_.push_back(make_stage(size_ * growth));
  auto& s = stages_.back();
  auto m = mix(h);
  auto& b = s.blocks[block_of(m, s.block_count)];
  for (int i = 0; i < 8; ++i)
    b.words[i] |= bit_of(m, i);
  ++s.size;
  ++size_;
}

bool id_filter::test(const stage& s, std::uint64_t m) noexcept {
  auto& b = s.blocks[block_of(m, s.block_count)];
  for (int i = 0; i < 8; ++i)
    if ((b.words[i] & bit_of(m, i)) == 0)
      return false;
  return true;
}

bool id_filter::may_contain(std::uint64_t h) const noexcept {
  auto m = mix(h);
  // Newest first: a redelivery is most often of a recent event.
  for (auto i = stages_.rbegin(); i != stages_.rend(); ++i)
    if (test(*i, m))
      return true;
  return false;
}

void id_filter::prefetch(std::uint64_t h) const noexcept {
  auto m = mix(h);
  for (auto& s : stages_)
    __builtin_prefetch(&s.blocks[block_of(m, s.block_count)]);
}

std::size_t id_filter::memory_bytes() const noexcept {
  std::size_t result = 0;
  for (auto& s : stages_)
    result += s.block_count * sizeof(block);
  return result;
}

} // namespace bus::internal
