// The ember.Tensor <-> _C.Tensor bridge. ember.Tensor (python/ember/tensor.py) declares
// __slots__ = ("_c", ...); the slot's offset is read once from its member descriptor, after
// which wrapping is an allocation plus a pointer store, and unwrapping a type check plus a load.
// The other object slots (the autograd fields) start as None, so Python reads them without a
// try/except and `if t._rg:` is false for every tensor a kernel returns.
#include "python/bindings.h"

#include <structmember.h>

#include <vector>

namespace ember::py_bind {
namespace {

PyTypeObject* g_class = nullptr;
Py_ssize_t g_offset = 0;
std::vector<Py_ssize_t> g_none_slots;
PyTypeObject* g_core = nullptr;
const py::detail::type_info* g_core_info = nullptr;

}  // namespace

void set_tensor_class(py::handle cls) {
  if (!PyType_Check(cls.ptr())) fail<TypeError>("set_tensor_class", "expected a class");
  py::object descr = py::getattr(cls, "_c");
  if (Py_TYPE(descr.ptr()) != &PyMemberDescr_Type)
    fail<TypeError>("set_tensor_class", "the class must declare __slots__ = ('_c', ...)");
  auto* member = reinterpret_cast<PyMemberDescrObject*>(descr.ptr())->d_member;
  if (member->type != T_OBJECT_EX)
    fail<TypeError>("set_tensor_class", "_c must be an object slot");
  Py_XDECREF(reinterpret_cast<PyObject*>(g_class));
  Py_INCREF(cls.ptr());
  g_class = reinterpret_cast<PyTypeObject*>(cls.ptr());
  g_offset = member->offset;
  g_none_slots.clear();
  for (py::handle name : py::reinterpret_borrow<py::tuple>(py::getattr(cls, "__slots__"))) {
    py::object d = py::getattr(cls, name);
    if (Py_TYPE(d.ptr()) != &PyMemberDescr_Type) continue;  // __weakref__
    auto* m = reinterpret_cast<PyMemberDescrObject*>(d.ptr())->d_member;
    if (m->type == T_OBJECT_EX && m->offset != g_offset) g_none_slots.push_back(m->offset);
  }
}

PyObject* unwrap_tensor(PyObject* obj) {
  if (!g_class || !PyObject_TypeCheck(obj, g_class)) return nullptr;
  return *reinterpret_cast<PyObject**>(reinterpret_cast<char*>(obj) + g_offset);
}

PyObject* wrap_tensor(PyObject* c) {
  if (!g_class || !c) return c;
  PyObject* w = g_class->tp_alloc(g_class, 0);
  if (!w) {
    Py_DECREF(c);
    return nullptr;
  }
  char* base = reinterpret_cast<char*>(w);
  *reinterpret_cast<PyObject**>(base + g_offset) = c;
  for (Py_ssize_t off : g_none_slots) {
    Py_INCREF(Py_None);
    *reinterpret_cast<PyObject**>(base + off) = Py_None;
  }
  return w;
}

PyTypeObject* core_tensor_type() {
  if (!g_core) {
    g_core_info = py::detail::get_type_info(typeid(Tensor));
    g_core = g_core_info ? g_core_info->type : nullptr;
  }
  return g_core;
}

// What pybind11's generic caster does for a moved value, minus the registry lookups: allocate
// the instance, move the Tensor into a heap holder, register it.
PyObject* new_core_tensor(Tensor&& t) {
  PyTypeObject* type = core_tensor_type();
  auto* inst = reinterpret_cast<py::detail::instance*>(py::detail::make_new_instance(type));
  if (!inst) return nullptr;
  inst->owned = true;
  inst->get_value_and_holder().value_ptr() = new Tensor(std::move(t));
  g_core_info->init_instance(inst, nullptr);
  return reinterpret_cast<PyObject*>(inst);
}

}  // namespace ember::py_bind
