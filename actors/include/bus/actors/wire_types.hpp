#pragma once

// Every custom type that crosses a node boundary, in one list with its wire
// name. bus::init registers exactly this list, and the static check below
// proves at compile time that every type in every actor interface is either
// in it or built into CAF: a message type that a node forgets to register
// cannot compile.

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/detail/type_list.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_nr.hpp>

#include "bus/actors/channel.hpp"
#include "bus/actors/interfaces.hpp"

namespace bus::actors {

/// A registered type and its name on the wire.
template <class T>
struct wire_type {
  using type = T;
  const char* name;
};

/// The types bus::init registers, with their names.
inline auto wire_types() {
  return std::make_tuple(
    wire_type<event>{"bus.event"},
    wire_type<std::vector<event>>{"std::vector<bus.event>"},
    wire_type<event_batch>{"bus.event_batch"},
    wire_type<publish_outcome>{"bus.publish_outcome"},
    wire_type<std::vector<publish_outcome>>{"std::vector<bus.publish_outcome>"},
    wire_type<model_ack>{"bus.model_ack"}, wire_type<publish_ack>{"bus.publish_ack"},
    wire_type<publish_wait>{"bus.publish_wait"},
    wire_type<publish_order>{"bus.publish_order"},
    wire_type<shadow_wait>{"bus.shadow_wait"},
    wire_type<delivery_ack>{"bus.delivery_ack"},
    wire_type<std::vector<delivery_ack>>{"std::vector<bus.delivery_ack>"},
    wire_type<std::vector<event_batch>>{"std::vector<bus.event_batch>"},
    wire_type<query_result>{"bus.query_result"},
    wire_type<model_snapshot>{"bus.model_snapshot"},
    wire_type<projector_status>{"bus.projector_status"},
    wire_type<std::vector<projector_status>>{"std::vector<bus.projector_status>"},
    wire_type<model_checkpoint>{"bus.model_checkpoint"},
    wire_type<std::vector<model_checkpoint>>{"std::vector<bus.model_checkpoint>"},
    wire_type<parked_list>{"bus.parked_list"}, wire_type<bus_status>{"bus.bus_status"},
    wire_type<node_entry>{"bus.node_entry"},
    wire_type<shared_model>{"bus.shared_model"},
    wire_type<std::vector<shared_model>>{"std::vector<bus.shared_model>"},
    wire_type<partition_pause>{"bus.partition_pause"},
    wire_type<std::vector<partition_pause>>{"std::vector<bus.partition_pause>"},
    wire_type<std::vector<std::uint32_t>>{"std::vector<uint32_t>"},
    wire_type<std::vector<node_entry>>{"std::vector<bus.node_entry>"},
    wire_type<projector_actor>{"bus.projector_actor"},
    wire_type<bus_actor>{"bus.bus_actor"},
    wire_type<supervisor_actor>{"bus.supervisor_actor"},
    wire_type<dialer_actor>{"bus.dialer_actor"},
    wire_type<channel_message>{"bus.channel_message"},
    wire_type<channel_reply>{"bus.channel_reply"},
    wire_type<channel_status>{"bus.channel_status"},
    wire_type<channel_actor>{"bus.channel_actor"},
    wire_type<channel_receiver_actor>{"bus.channel_receiver_actor"});
}

/// The actor interfaces whose messages may cross a node boundary.
using wire_interfaces
  = caf::detail::type_list<projector_actor, bus_actor, supervisor_actor, dialer_actor,
                           channel_actor, channel_receiver_actor>;

namespace detail {

template <class T>
struct is_atom : std::false_type {};

template <caf::atom_value V>
struct is_atom<caf::atom_constant<V>> : std::true_type {};

template <class T, class Tuple>
struct in_tuple;

template <class T, class... Ts>
struct in_tuple<T, std::tuple<wire_type<Ts>...>>
  : std::disjunction<std::is_same<T, Ts>...> {};

// Fails to compile, naming T in the error's context, when T cannot travel.
template <class T>
constexpr bool travels() {
  // allowed_unsafe_message_type marks what never leaves its node (a
  // model_spec carries a factory function).
  constexpr bool ok = std::is_void<T>::value || is_atom<T>::value
                      || caf::allowed_unsafe_message_type<T>::value
                      || caf::type_nr<T>::value != 0
                      || in_tuple<T, decltype(wire_types())>::value;
  static_assert(ok, "a type in an actor interface is missing from wire_types()");
  return ok;
}

template <class... Ts>
constexpr bool all_travel(caf::detail::type_list<Ts...>) {
  return (travels<Ts>() && ...);
}

template <class... Ts>
constexpr bool all_travel(caf::output_tuple<Ts...>) {
  return (travels<Ts>() && ...);
}

template <class In, class Out>
constexpr bool signature_travels(caf::typed_mpi<In, Out>) {
  return all_travel(In{}) && all_travel(Out{});
}

template <class... Sigs>
constexpr bool interface_travels(caf::detail::type_list<Sigs...>) {
  return (signature_travels(Sigs{}) && ...);
}

template <class... Interfaces>
constexpr bool interfaces_travel(caf::detail::type_list<Interfaces...>) {
  return (interface_travels(typename Interfaces::signatures{}) && ...);
}

} // namespace detail

static_assert(detail::interfaces_travel(wire_interfaces{}));

} // namespace bus::actors
