using FineTune.MLNet.ChatTemplates;
using FineTune.MLNet.Formats.Gguf;
using FineTune.MLNet.Formats.Llama2c;
using FineTune.MLNet.Formats.Onnx;
using FineTune.MLNet.Formats.SafeTensors;

namespace FineTune.MLNet.Tests.Fuzz;

/// <summary>
/// The one contract for bad outside data (README "Untrusted inputs"): a parser either returns a value or throws
/// <see cref="InvalidDataException"/>, its format's own exception (<see cref="SafeTensorsFormatException"/>,
/// <see cref="OnnxFormatException"/>, <see cref="GgufFormatException"/>, <see cref="Llama2cFormatException"/>), or <see cref="NotSupportedException"/> for a
/// well-formed file that uses a feature this library does not implement, with a message naming the file; chat
/// templates throw <see cref="ChatTemplateException"/>. Anything else
/// (JsonException, IndexOutOfRange, Overflow, OutOfMemory, NullReference, InvalidCast, KeyNotFound, stack overflow) is
/// a crash.
/// </summary>
internal static class FuzzContract
{
    public static bool IsDocumentedRefusal(Exception e) =>
        e is InvalidDataException or SafeTensorsFormatException or OnnxFormatException or GgufFormatException or Llama2cFormatException or NotSupportedException;

    public static bool IsTemplateRefusal(Exception e) => e is ChatTemplateException;
}
