"""nn.Module machinery: registration, traversal, state_dict / load_state_dict, hooks, modes,
conversion, repr, containers, Parameter."""

from __future__ import annotations

import copy
from collections import OrderedDict

import ember
import numpy as np
import pytest
from ember import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2, bias=False)
        self.register_buffer("steps", ember.zeros(1))
        self.register_buffer("scratch", ember.zeros(2), persistent=False)
        self.scale = nn.Parameter(ember.ones(1))

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        return self.fc2(self.act(self.fc1(x))) * self.scale


def test_registration_and_names():
    m = Net()
    assert [n for n, _ in m.named_parameters()] == [
        "scale", "fc1.weight", "fc1.bias", "fc2.weight"]
    assert [n for n, _ in m.named_buffers()] == ["steps", "scratch"]
    assert [n for n, _ in m.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "act", "fc2"]
    assert [n for n, _ in m.named_parameters(prefix="net", recurse=False)] == ["net.scale"]
    assert len(list(m.parameters())) == 4 and len(list(m.buffers(recurse=False))) == 2
    assert isinstance(m.scale, nn.Parameter) and isinstance(m.scale, ember.Tensor)
    assert "fc1" in dir(m) and "steps" in dir(m) and "scale" in dir(m)


def test_setattr_moves_between_kinds_and_delattr():
    m = Net()
    m.fc1 = nn.Parameter(ember.zeros(2))  # a module name reassigned to a parameter
    assert "fc1" not in m._modules and "fc1" in m._parameters
    m.steps = ember.ones(1)  # stays a buffer
    assert "steps" in m._buffers and m.steps.item() == 1
    with pytest.raises(TypeError, match="parameter 'scale'"):
        m.scale = ember.ones(1)
    with pytest.raises(TypeError, match="child module 'fc2'"):
        m.fc2 = 3
    m.scale = None
    assert m.scale is None and "scale" not in dict(m.named_parameters())
    del m.fc2
    assert not hasattr(m, "fc2")
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        m.nope  # noqa: B018
    m.extra = nn.Buffer(ember.ones(3), persistent=False)
    assert "extra" in m._buffers and "extra" not in m.state_dict()


def test_errors_before_init_and_bad_names():
    class Bad(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(ember.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()
    m = nn.Module()
    with pytest.raises(KeyError, match='contain'):
        m.register_buffer("a.b", ember.ones(1))
    with pytest.raises(TypeError, match="ember.nn.Parameter or None"):
        m.register_parameter("w", ember.ones(1))
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        m(1)


def test_shared_parameters_are_yielded_once():
    a = nn.Linear(2, 2)
    s = nn.Sequential(a, a)
    assert len(list(s.parameters())) == 2
    assert len(list(s.named_parameters(remove_duplicate=False))) == 4
    assert len(list(s.modules())) == 2


def test_state_dict_is_detached_and_ordered():
    m = Net()
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["scale", "steps", "fc1.weight", "fc1.bias", "fc2.weight"]
    assert not isinstance(sd["fc1.weight"], nn.Parameter)
    assert not sd["fc1.weight"].requires_grad
    assert sd["fc1.weight"].data_ptr() == m.fc1.weight.data_ptr()  # shares storage
    assert m.state_dict(keep_vars=True)["scale"] is m.scale
    assert list(m.state_dict(prefix="p.")) [0] == "p.scale"


def test_load_state_dict_copies_in_place():
    a, b = Net(), Net()
    w = b.fc1.weight
    res = b.load_state_dict(a.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert repr(res) == "<All keys matched successfully>"
    assert b.fc1.weight is w
    np.testing.assert_array_equal(np.asarray(b.fc1.weight), np.asarray(a.fc1.weight))


def test_load_state_dict_reports_every_problem_at_once():
    m = Net()
    sd = m.state_dict()
    del sd["fc1.bias"], sd["steps"]
    sd["fc2.weight"] = ember.zeros(5, 5)
    sd["scale"] = ember.zeros(1, dtype=ember.float64)
    sd["fc3.weight"] = ember.zeros(1)
    sd["bogus"] = ember.zeros(1)
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(sd)
    msg = str(e.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    for part in ['Missing key(s) in state_dict: "steps", "fc1.bias"',
                 'Unexpected key(s) in state_dict: "fc3.weight", "bogus"',
                 "size mismatch for fc2.weight: copying a param with shape "
                 "ember.Size([5, 5]) from checkpoint, the shape in current model is "
                 "ember.Size([2, 4])",
                 "dtype mismatch for scale"]:
        assert part in msg, msg


def test_load_state_dict_non_strict_and_assign():
    m = Net()
    sd = m.state_dict()
    del sd["fc1.bias"]
    sd["extra"] = ember.zeros(1)
    res = m.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc1.bias"] and res.unexpected_keys == ["extra"]
    new = {k: v.clone() + 1 for k, v in Net().state_dict().items()}
    m.load_state_dict(new, assign=True)
    assert isinstance(m.fc1.weight, nn.Parameter) and m.fc1.weight.requires_grad
    assert m.fc1.weight.data_ptr() == new["fc1.weight"].data_ptr()


def test_train_eval_and_apply():
    m = Net()
    assert m.training and m.fc1.training
    assert m.eval() is m and not m.training and not m.fc1.training
    m.train()
    assert m.act.training
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Net"]


def test_forward_hooks():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    x = ember.ones(3, 2)
    out = m(x)
    want = np.asarray(m.bias) + 1
    np.testing.assert_allclose(np.asarray(out), np.broadcast_to(want, (3, 2)), rtol=1e-6)
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    assert not m._forward_hooks and not m._forward_pre_hooks
    order = []
    m.register_forward_hook(lambda *a: order.append("a"))
    m.register_forward_hook(lambda *a: order.append("b"), prepend=True)
    m.register_forward_pre_hook(lambda mod, args, kw: (args, {}), with_kwargs=True)
    m(x)
    assert order == ["b", "a"]


def test_get_submodule_and_parameter():
    m = nn.Sequential(OrderedDict(block=Net()))
    assert m.get_submodule("block.fc1") is m.block.fc1
    assert m.get_parameter("block.fc1.bias") is m.block.fc1.bias
    assert m.get_buffer("block.steps") is m.block.steps
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        m.get_submodule("block.nope")
    with pytest.raises(AttributeError, match="not an nn.Parameter"):
        m.get_parameter("block.steps")


def test_to_and_dtype_conversion_keep_parameter_identity():
    m = Net()
    w = m.fc1.weight
    m.double()
    assert m.fc1.weight is w and w.dtype == ember.float64 and m.steps.dtype == ember.float64
    m.to(ember.float32)
    assert w.dtype == ember.float32
    m.to("cpu", dtype=ember.float16)
    assert w.dtype == ember.float16
    m.float().to(ember.zeros(1, dtype=ember.float64))
    assert w.dtype == ember.float64
    with pytest.raises(TypeError, match="floating point"):
        m.to(ember.int64)
    emb = nn.Embedding(3, 2)
    idx_holder = nn.Module()
    idx_holder.register_buffer("idx", ember.tensor([1, 2]))
    idx_holder.emb = emb
    idx_holder.half()
    assert idx_holder.idx.dtype == ember.int64 and emb.weight.dtype == ember.float16


def test_zero_grad_and_requires_grad():
    m = Net()
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    assert all(p.requires_grad for p in m.parameters())
    m.fc1.weight.grad = ember.ones(4, 3)
    m.zero_grad(set_to_none=False)
    assert float(m.fc1.weight.grad.abs().sum()) == 0
    m.zero_grad()
    assert m.fc1.weight.grad is None


def test_repr_tree():
    m = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.ReLU(inplace=True), nn.Dropout(0.2)),
                      nn.Flatten(), nn.Softmax(dim=1))
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): ReLU(inplace=True)\n"
        "    (1): Dropout(p=0.2, inplace=False)\n"
        "  )\n"
        "  (2): Flatten(start_dim=1, end_dim=-1)\n"
        "  (3): Softmax(dim=1)\n"
        ")"
    )
    assert repr(nn.ModuleList([nn.Tanh(), nn.Tanh(), nn.ReLU()])) == (
        "ModuleList(\n  (0-1): 2 x Tanh()\n  (2): ReLU()\n)")
    assert repr(nn.Embedding(5, 2, padding_idx=0)) == "Embedding(5, 2, padding_idx=0)"


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    tn, en = torch.nn, nn
    for mk in (lambda n: n.Sequential(n.Linear(3, 4), n.GELU(), n.LeakyReLU(0.2),
                                      n.ModuleList([n.Linear(1, 1)] * 3), n.ELU(),
                                      n.Hardtanh(), n.Softplus(), n.PReLU(3),
                                      n.Bilinear(2, 3, 4), n.Unflatten(1, (2, 2))),
               lambda n: n.ModuleDict({"a": n.Identity(), "b": n.LogSoftmax(-1)}),
               lambda n: n.CrossEntropyLoss()):
        assert repr(mk(en)) == repr(mk(tn)).replace("torch.", "ember.")


def test_parameter_basics():
    t = ember.ones(2, 3)
    p = nn.Parameter(t)
    assert p.requires_grad and p.is_leaf and p.data_ptr() == t.data_ptr()
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert nn.Parameter().shape == (0,)
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q.data_ptr() != p.data_ptr() and q.requires_grad
    m = copy.deepcopy(nn.Linear(2, 3))
    assert isinstance(m.weight, nn.Parameter)


def test_sequential_container_ops():
    a, b, c = nn.ReLU(), nn.Tanh(), nn.Sigmoid()
    s = nn.Sequential(a, b)
    assert len(s) == 2 and s[0] is a and s[-1] is b
    assert isinstance(s[0:1], nn.Sequential) and list(s[0:1]) == [a]
    s.append(c)
    s.insert(0, nn.Identity())
    assert [type(m).__name__ for m in s] == ["Identity", "ReLU", "Tanh", "Sigmoid"]
    del s[1]
    assert list(s._modules) == ["0", "1", "2"] and s[1] is b
    s.extend([nn.ReLU()])
    assert len(s) == 4
    x = ember.tensor([-1.0, 0.5])
    np.testing.assert_allclose(np.asarray(nn.Sequential(a, b)(x)), np.tanh([0, 0.5]), rtol=1e-6)
    named = nn.Sequential(OrderedDict([("first", a), ("second", b)]))
    assert named.first is a and list(named.state_dict()) == []
    with pytest.raises(IndexError):
        s[10]  # noqa: B018


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    ml += [nn.ReLU()]
    assert len(ml) == 4 and len(list(ml.parameters())) == 6
    del ml[0]
    assert list(ml._modules) == ["0", "1", "2"]
    ml.insert(1, nn.Tanh())
    assert isinstance(ml[1], nn.Tanh) and isinstance(ml[1:], nn.ModuleList)
    md = nn.ModuleDict({"x": nn.Linear(1, 2)})
    md["y"] = nn.ReLU()
    assert list(md.keys()) == ["x", "y"] and "x" in md and len(md) == 2
    assert [n for n, _ in md.named_parameters()] == ["x.weight", "x.bias"]
    md.pop("x")
    assert list(md) == ["y"]


def test_parameter_list_and_dict():
    pl = nn.ParameterList([ember.ones(2), nn.Parameter(ember.zeros(3))])
    assert all(isinstance(p, nn.Parameter) for p in pl) and len(pl) == 2
    pl.append(ember.ones(1))
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    pd = nn.ParameterDict({"a": ember.ones(2)})
    pd["b"] = ember.zeros(1)
    assert list(pd.keys()) == ["a", "b"] and isinstance(pd["b"], nn.Parameter)
    outer = nn.Module()
    outer.pl, outer.pd = pl, pd
    assert list(outer.state_dict()) == ["pl.0", "pl.1", "pl.2", "pd.a", "pd.b"]
    assert "(0): Parameter containing: [ember.float32 of size 2]" in repr(pl)
