using static TorchSharp.torch;

namespace FineTune.MLNet.Modules;

/// <summary>
/// Keys and values of earlier positions, per layer, for incremental decoding. Keys are stored after RoPE and
/// before the grouped-query repeat: (B, kv_heads, S, d). The cache owns its tensors; dispose it when done.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] _keys;
    private readonly Tensor?[] _values;

    public KvCache(int layers)
    {
        if (layers <= 0) throw new ArgumentOutOfRangeException(nameof(layers), layers, "A cache needs at least one layer.");
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
    }

    public int Layers => _keys.Length;

    /// <summary>Number of cached positions S (0 when empty).</summary>
    public long Length => _keys[0]?.shape[2] ?? 0;

    /// <summary>
    /// Appends the new keys/values (B, kv, T, d) of <paramref name="layer"/> and returns the full ones
    /// (B, kv, S + T, d) in the caller's dispose scope; the cache keeps its own references.
    /// </summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor newKeys, Tensor newValues)
    {
        var k = _keys[layer] is null ? newKeys.detach().clone() : cat([_keys[layer]!, newKeys.detach()], dim: 2);   // (B, kv, S+T, d)
        var v = _values[layer] is null ? newValues.detach().clone() : cat([_values[layer]!, newValues.detach()], dim: 2);
        k.DetachFromDisposeScope();
        v.DetachFromDisposeScope();
        _keys[layer]?.Dispose();
        _values[layer]?.Dispose();
        _keys[layer] = k;
        _values[layer] = v;
        return (k.alias(), v.alias());
    }

    /// <summary>Keeps only the batch rows in <paramref name="rows"/> (e.g. after some sequences finished).</summary>
    public void SelectRows(Tensor rows)
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            if (_keys[i] is null) continue;
            var k = _keys[i]!.index_select(0, rows);
            var v = _values[i]!.index_select(0, rows);
            k.DetachFromDisposeScope();
            v.DetachFromDisposeScope();
            _keys[i]!.Dispose();
            _values[i]!.Dispose();
            _keys[i] = k;
            _values[i] = v;
        }
    }

    public void Dispose()
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            _keys[i]?.Dispose();
            _values[i]?.Dispose();
            _keys[i] = _values[i] = null;
        }
    }
}
