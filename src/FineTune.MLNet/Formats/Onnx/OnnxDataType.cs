namespace FineTune.MLNet.Formats.Onnx;

/// <summary>ONNX <c>TensorProto.DataType</c> values (numbers fixed by onnx.proto).</summary>
public enum OnnxDataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
}

/// <summary>Element sizes of the data types whose payload this library reads and writes.</summary>
public static class OnnxDataTypes
{
    /// <summary>Bytes per element, or null for types this library does not support (strings, complex, 4-bit, float8).</summary>
    public static int? ElementSize(OnnxDataType type) => type switch
    {
        OnnxDataType.Float => 4,
        OnnxDataType.UInt8 => 1,
        OnnxDataType.Int8 => 1,
        OnnxDataType.UInt16 => 2,
        OnnxDataType.Int16 => 2,
        OnnxDataType.Int32 => 4,
        OnnxDataType.Int64 => 8,
        OnnxDataType.Bool => 1,
        OnnxDataType.Float16 => 2,
        OnnxDataType.Double => 8,
        OnnxDataType.UInt32 => 4,
        OnnxDataType.UInt64 => 8,
        OnnxDataType.BFloat16 => 2,
        _ => null,
    };
}
