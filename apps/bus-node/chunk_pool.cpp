#include "chunk_pool.hpp"

#include <utility>

namespace bus::node {

chunk_pool::chunk_pool(std::size_t spares, std::size_t reserve)
  : state_(std::make_shared<shared_state>()), reserve_(reserve) {
  state_->max_spares = spares;
}

request_chunk chunk_pool::take() {
  std::unique_ptr<std::vector<request>> vec;
  {
    std::lock_guard<std::mutex> guard{state_->mtx};
    if (!state_->spare.empty()) {
      vec = std::move(state_->spare.back());
      state_->spare.pop_back();
    }
  }
  if (!vec) {
    vec = std::make_unique<std::vector<request>>();
    vec->reserve(reserve_);
  }
  // The deleter holds the pool's state: a chunk may outlive the reader.
  return request_chunk{vec.release(), [st = state_](std::vector<request>* done) {
                         std::unique_ptr<std::vector<request>> owned{done};
                         owned->clear(); // its requests go, its memory stays
                         std::lock_guard<std::mutex> guard{st->mtx};
                         if (st->spare.size() < st->max_spares)
                           st->spare.push_back(std::move(owned));
                       }};
}

std::size_t chunk_pool::spares() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->spare.size();
}

} // namespace bus::node
