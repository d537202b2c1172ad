// Helpers shared by the parsers.
#pragma once

#include "wire/wire.hpp"

namespace synq::wire::detail {

template <class T>
Parsed<T> fail(ParseError e) {
  return Parsed<T>{std::variant<T, ParseError>(std::in_place_index<1>, e)};
}

}  // namespace synq::wire::detail
