using System.Reflection;
using FineTune.MLNet.Estimators;
using Microsoft.ML;
using Microsoft.ML.Data;
using Xunit;

namespace FineTune.MLNet.Tests.Estimators;

/// <summary>
/// The ML.NET face without training: GetOutputSchema checks every input column Fit and the transformer read, the
/// classifier's shape carries the evaluator annotations, the flat DPO overload fills its options, and the catalog
/// refuses to train without the context's environment.
/// </summary>
public sealed class EstimatorFaceTests
{
    private static SchemaShape Shape(params (string Name, DataViewType Type)[] columns)
    {
        var builder = new DataViewSchema.Builder();
        foreach (var (name, type) in columns) builder.AddColumn(name, type);
        return SchemaShapes.FromSchema(builder.ToSchema());
    }

    private static readonly TextDataViewType Text = TextDataViewType.Instance;

    [Theory]
    [InlineData("Prompt", "Prompt column 'Prompt' was not found")]
    [InlineData("Chosen", "Chosen column 'Chosen' was not found")]
    [InlineData("Rejected", "Rejected column 'Rejected' was not found")]
    public void DpoOutputSchemaNamesEachMissingInputColumn(string missing, string expected)
    {
        var estimator = new MLContext().Transforms.DpoFineTune(new DpoFineTuneOptions { Model = "unused-until-fit" });
        var columns = new[] { "Prompt", "Chosen", "Rejected" }.Where(c => c != missing).Select(c => (c, (DataViewType)Text)).ToArray();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(Shape(columns)));
        Assert.Contains(expected, e.Message);
        var ok = estimator.GetOutputSchema(Shape(("Prompt", Text), ("Chosen", Text), ("Rejected", Text)));
        Assert.Equal(["Prompt", "Chosen", "Rejected", "Generated"], ok.Select(c => c.Name));
    }

    [Fact]
    public void DpoOutputSchemaRefusesANonTextCompletionColumn()
    {
        var estimator = new MLContext().Transforms.DpoFineTune(new DpoFineTuneOptions { Model = "m" });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            estimator.GetOutputSchema(Shape(("Prompt", Text), ("Chosen", Text), ("Rejected", NumberDataViewType.Single))));
        Assert.Contains("Rejected column 'Rejected' must be a String scalar", e.Message);
    }

    [Fact]
    public void SftOutputSchemaNeedsTheResponseOrTheMessagesColumn()
    {
        var ml = new MLContext();
        var pairs = ml.Transforms.LoraFineTune(new LoraFineTuneOptions { Model = "m", ResponseColumnName = "Answer" });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => pairs.GetOutputSchema(Shape(("Prompt", Text))));
        Assert.Contains("Response column 'Answer' was not found", e.Message);
        Assert.Equal(["Prompt", "Answer", "Generated"], pairs.GetOutputSchema(Shape(("Prompt", Text), ("Answer", Text))).Select(c => c.Name));

        var chat = ml.Transforms.LoraFineTune(new LoraFineTuneOptions { Model = "m", MessagesColumnName = "Chat" });
        var m = Assert.Throws<ArgumentOutOfRangeException>(() => chat.GetOutputSchema(Shape(("Prompt", Text), ("Response", Text))));
        Assert.Contains("Messages column 'Chat' was not found", m.Message);
        Assert.Equal(["Prompt", "Chat", "Generated"], chat.GetOutputSchema(Shape(("Prompt", Text), ("Chat", Text))).Select(c => c.Name));
    }

    [Fact]
    public void ClassifierOutputShapeCarriesTheEvaluatorAnnotations()
    {
        var ml = new MLContext();
        var estimator = ml.MulticlassClassification.Trainers.FineTuneTextClassifier(new TextClassificationFineTuneOptions());
        var shape = estimator.GetOutputSchema(Shape(("Text", Text), ("Label", new KeyDataViewType(typeof(uint), 3))));
        var score = shape.Single(c => c.Name == "Score");
        Assert.Equal((SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single), (score.Kind, score.ItemType));
        Assert.Equal(["ScoreColumnKind", "ScoreValueKind", "SlotNames"], score.Annotations.Select(a => a.Name).Order());
        var predicted = shape.Single(c => c.Name == "PredictedLabel");
        Assert.True(predicted.IsKey);
        Assert.Equal(["KeyValues"], predicted.Annotations.Select(a => a.Name));

        var binary = estimator.GetOutputSchema(Shape(("Text", Text), ("Label", BooleanDataViewType.Instance)));
        Assert.Equal(["Text", "Label", "Score", "Probability", "PredictedLabel"], binary.Select(c => c.Name));
        Assert.Contains("ScoreColumnKind", binary.Single(c => c.Name == "Score").Annotations.Select(a => a.Name));
    }

    [Fact]
    public void FlatDpoOverloadFillsTheOptions()
    {
        var estimator = new MLContext().Transforms.DpoFineTune("base", promptColumnName: "q", chosenColumnName: "good", rejectedColumnName: "bad",
            outputColumnName: "answer", beta: 0.3, loraRank: 4, loraAlpha: 12, epochs: 2, learningRate: 1e-4, maxLength: 128, seed: 9);
        var o = estimator.Options;
        Assert.Equal(("base", "q", "good", "bad", "answer"), (o.Model, o.PromptColumnName, o.ChosenColumnName, o.RejectedColumnName, o.OutputColumnName));
        Assert.Equal((0.3, 4, 12.0, 2, 1e-4, 128, 9), (o.Beta, o.Lora.Rank, o.Lora.Alpha, o.Epochs, o.LearningRate, o.Data.MaxLength, o.Seed));
        Assert.Null(o.AdapterPath);
        Assert.Equal(new DpoFineTuneOptions().Lora.TargetModules, o.Lora.TargetModules);
    }

    [Fact]
    public void CatalogWithoutAnEnvironmentIsAClearErrorNotAFreshContext()
    {
        var find = typeof(FineTuneCatalog).GetMethod("EnvironmentOf", BindingFlags.NonPublic | BindingFlags.Static)!;
        var e = Assert.Throws<TargetInvocationException>(() => find.Invoke(null, [new object()]));
        var inner = Assert.IsType<InvalidOperationException>(e.InnerException);
        Assert.Contains("could not find the ML.NET environment of System.Object", inner.Message);
        Assert.Contains("Construct the estimator directly", inner.Message);
        Assert.NotNull(find.Invoke(null, [new MLContext().Transforms]));   // the real catalogs have one
    }
}
