using System.Text.RegularExpressions;
using Xunit;

namespace FineTune.MLNet.Tests.Architecture;

/// <summary>
/// Every TorchSharp custom autograd function in the library hands its gradients back through
/// <c>Autograd/CustomFunctionGradients.Return</c>: without it TorchSharp 0.107 keeps each node's incoming and returned
/// gradients alive until the whole backward ends (<c>CustomFunctionGradientsTests</c> measures the leak).
/// </summary>
public sealed partial class CustomFunctionReturnTests
{
    [GeneratedRegex(@"class\s+(\w+)\s*:\s*(?:TorchSharp\.)?(?:torch\.)?autograd\.(?:Single|Multi)TensorFunction<")]
    private static partial Regex CustomFunctionClass();

    /// <summary>The custom function classes of one source text that return from <c>backward</c> without the release.</summary>
    internal static IReadOnlyList<string> FunctionsWithoutRelease(string source)
    {
        var classes = CustomFunctionClass().Matches(source).Select(m => m.Groups[1].Value).ToList();
        int releases = Regex.Matches(source, @"CustomFunctionGradients\.Return\(").Count;
        return releases >= classes.Count ? [] : classes;
    }

    [Fact]
    public void EveryCustomAutogradFunctionReleasesItsGradients()
    {
        int functions = 0;
        var missing = new List<string>();
        foreach (var file in Directory.EnumerateFiles(FolderCycleTests.LibraryDir(), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")) continue;
            var text = File.ReadAllText(file);
            functions += CustomFunctionClass().Matches(text).Count;
            missing.AddRange(FunctionsWithoutRelease(text).Select(c => $"{Path.GetFileName(file)}: {c}"));
        }
        Assert.True(functions >= 3, $"expected the library's custom autograd functions (Nf4MatMul, the checkpoint, the fused loss), found {functions}");
        Assert.True(missing.Count == 0, "custom autograd functions whose backward does not return through CustomFunctionGradients.Return: " + string.Join(", ", missing));
    }

    [Fact]
    public void AFunctionThatReturnsItsGradientsPlainlyIsFound()
    {
        const string plain = """
            internal sealed class Doubler : autograd.SingleTensorFunction<Doubler>
            {
                public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor g) => [g.mul(2)];
            }
            """;
        Assert.Equal(["Doubler"], FunctionsWithoutRelease(plain));
        Assert.Empty(FunctionsWithoutRelease(plain.Replace("=> [g.mul(2)]", "=> CustomFunctionGradients.Return([g], [g.mul(2)])")));
    }
}
