// Debug-build invariant checks for the stack and listener. Compiled out with
// NDEBUG so the hot path pays nothing in release builds.
#pragma once

#include <cstdio>
#include <cstdlib>

#ifndef SYNQ_DCHECK
#ifdef NDEBUG
#define SYNQ_DCHECK(cond) \
  do {                    \
  } while (false)
#else
#define SYNQ_DCHECK(cond)                                                                 \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: SYNQ_DCHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (false)
#endif
#endif
