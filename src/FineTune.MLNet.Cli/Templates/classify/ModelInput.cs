namespace {{Namespace}};

/// <summary>One row of the data: the text to classify and its label (any strings; ML.NET maps them to keys).</summary>
public sealed class ModelInput
{
    public string Text { get; set; } = "";

    public string Label { get; set; } = "";
}
