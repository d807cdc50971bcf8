// The copy/cast family: one kernel copying any dtype into any dtype over an ElemIter.
#pragma once
#include "core/dispatch.h"
#include "core/iter.h"

namespace ember {
extern DispatchTable<ElemFn> copy_kernel;
}
