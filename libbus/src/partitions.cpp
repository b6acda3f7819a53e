#include "bus/partitions.hpp"

#include <charconv>
#include <utility>

#include "bus/forwarding_model.hpp"

namespace bus {

std::uint32_t partition_of(std::string_view key, std::uint32_t count) noexcept {
  if (count <= 1)
    return 0;
  std::uint64_t h = 14695981039346656037ull; // FNV-1a offset basis
  for (char c : key) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull; // FNV prime
  }
  return static_cast<std::uint32_t>(h % count);
}

std::string partition_name(std::string_view model, std::uint32_t index) {
  std::string result{model};
  result += '#';
  result += std::to_string(index);
  return result;
}

std::optional<partition_ref> split_partition_name(std::string_view name) noexcept {
  auto hash = name.rfind('#');
  if (hash == std::string_view::npos || hash == 0 || hash + 1 == name.size())
    return std::nullopt;
  auto digits = name.substr(hash + 1);
  if (digits.size() > 1 && digits.front() == '0')
    return std::nullopt;
  std::uint32_t index = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (ec != std::errc{} || end != digits.data() + digits.size())
    return std::nullopt;
  return partition_ref{name.substr(0, hash), index};
}

std::string_view model_of(std::string_view name) noexcept {
  if (auto ref = split_partition_name(name))
    return ref->model;
  return name;
}

namespace {

class partition_model final : public forwarding_model {
public:
  partition_model(read_model_ptr model, std::uint32_t index, std::uint32_t count)
    : forwarding_model(std::move(model)),
      name_(partition_name(inner().name(), index)),
      index_(index),
      count_(count) {}

  const std::string& name() const noexcept override { return name_; }

  bool apply(const event& e) override {
    if (!mine(e))
      return false;
    return forwarding_model::apply(e);
  }

  std::string definition() const override {
    return forwarding_model::definition() + "\npartition " + std::to_string(index_)
           + " of " + std::to_string(count_);
  }

  // A partition's rows are its model's: in the model's form. (A
  // forwarding_model leaves these to the defaults, so that a decorator that
  // changes values or restores is not passed by.)
  row_form snapshot_row_form() const noexcept override {
    return inner().snapshot_row_form();
  }

  bool write_record(std::string_view key, std::string& out) const override {
    return inner().write_record(key, out);
  }

  bool restore_record(std::string_view key, std::string_view value) override {
    return inner().restore_record(key, value);
  }

private:
  bool mine(const event& e) const {
    auto key = key_of(e);
    return partition_of(key ? std::string_view{*key} : std::string_view{}, count_)
           == index_;
  }

  std::string name_;
  std::uint32_t index_;
  std::uint32_t count_;
};

} // namespace

read_model_ptr make_partition(read_model_ptr inner, std::uint32_t index,
                              std::uint32_t count) {
  if (!inner)
    return inner;
  return std::make_unique<partition_model>(std::move(inner), index, count);
}

std::vector<model_spec> partition_specs(const model_spec& spec) {
  std::vector<model_spec> result;
  if (spec.partitions <= 1) {
    result.push_back(spec);
    return result;
  }
  for (std::uint32_t i = 0; i < spec.partitions; ++i) {
    auto part = spec;
    part.name = partition_name(spec.name, i);
    part.partitions = 1;
    part.make = [make = spec.make, i, n = spec.partitions]() -> read_model_ptr {
      return make_partition(make(), i, n);
    };
    result.push_back(std::move(part));
  }
  return result;
}

} // namespace bus
