namespace FineTune.MLNet.Formats.Llama2c;

/// <summary>One weight of a llama2.c checkpoint: its <c>run.c</c> name, row-major shape and fp32 values (dequantized for v2).</summary>
/// <param name="Name"><c>token_embedding</c>, <c>rms_att</c>, <c>wq</c>, …, <c>rms_final</c>, <c>wcls</c>.</param>
/// <param name="Shape">Row-major shape; per-layer weights lead with the layer count.</param>
/// <param name="Values">Flat values.</param>
public sealed record Llama2cTensor(string Name, long[] Shape, float[] Values);
