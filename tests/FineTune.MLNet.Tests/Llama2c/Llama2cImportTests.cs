using FineTune.MLNet.Import.Llama2c;
using FineTune.MLNet.Models.Pretrained;
using FineTune.MLNet.Tests.Checkpoints;
using Xunit;

namespace FineTune.MLNet.Tests.Llama2c;

/// <summary>The importer on the original stories260K files (when ../shared has them) writes exactly the bundled folder.</summary>
public sealed class Llama2cImportTests
{
    [Fact]
    public void Importing_the_original_files_reproduces_the_bundled_folder_byte_for_byte()
    {
        if (Llama2cShared.Checkpoint is not { } checkpoint || Llama2cShared.Tokenizer is not { } tokenizer) return;
        using var dir = new TempDir();
        var result = Llama2cImporter.Import(checkpoint, tokenizer, dir.Path);
        Assert.Equal(260_032, result.Parameters);
        Assert.Equal(0, result.Header.Version);
        Assert.True(result.Config.TieWordEmbeddings);
        var bundled = PretrainedDecoders.Files(PretrainedDecoders.TinyStories260K);
        int compared = 0;
        foreach (var file in Directory.GetFiles(dir.Path))
        {
            Assert.Equal(bundled[Path.GetFileName(file)], File.ReadAllBytes(file));
            compared++;
        }
        Assert.Equal(5, compared);
    }
}
