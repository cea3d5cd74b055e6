using FineTune.MLNet.Formats.Gguf;
using FineTune.MLNet.Tests.Checkpoints;
using FineTune.MLNet.Tests.Cli;
using Xunit;

namespace FineTune.MLNet.Tests.Gguf;

/// <summary><c>finetune import gguf</c> and <c>finetune export-gguf</c> as a user runs them.</summary>
public sealed class GgufCliTests
{
    [Fact]
    public void Import_then_export_q8_0_through_the_cli()
    {
        using var dir = new TempDir();
        string hf = dir.File("hf");
        var (code, stdout, stderr) = CliRunner.Run("import", "gguf", "--input", GgufFixtures.File(GgufFixtures.StoriesF32), "--output", hf);
        Assert.True(code == 0, stderr);
        Assert.Contains("48 F32", stdout);
        Assert.True(File.Exists(Path.Combine(hf, "tokenizer.json")));

        string gguf = dir.File("out.gguf");
        (code, stdout, stderr) = CliRunner.Run("export-gguf", "--type", "q8_0", "--model", hf, "--output", gguf);
        Assert.True(code == 0, stderr);
        var file = GgufFile.Read(gguf);
        Assert.Equal(32, file.Tensors.Count(t => t.Type == GgmlType.Q8_0));
        Assert.Equal(7, file.GetInteger("general.file_type"));
    }

    [Fact]
    public void Bad_input_is_reported_with_exit_code_2()
    {
        using var dir = new TempDir();
        var (code, _, stderr) = CliRunner.Run("export-gguf", "--type", "q5_k", "--model", dir.Path, "--output", dir.File("x.gguf"));
        Assert.Equal(2, code);
        Assert.Contains("--type", stderr);

        File.WriteAllBytes(dir.File("bad.gguf"), [.. "GGUF"u8, 3, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0]);
        (code, _, stderr) = CliRunner.Run("import", "gguf", "--input", dir.File("bad.gguf"), "--output", dir.File("o"));
        Assert.Equal(2, code);
        Assert.Contains("tensor_count", stderr);
        Assert.Contains("bad.gguf", stderr);
    }
}
