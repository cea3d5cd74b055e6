using System.Reflection;
using Microsoft.ML;

namespace FineTune.MLNet.Estimators;

/// <summary>
/// Builds <see cref="SchemaShape"/> columns from a <see cref="DataViewSchema"/>. ML.NET keeps both
/// <c>SchemaShape.Create</c> and the column constructor internal, so outside estimators reach <c>Create</c> by reflection.
/// </summary>
internal static class SchemaShapes
{
    private static readonly MethodInfo Create = typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, [typeof(DataViewSchema)])
        ?? throw new MissingMethodException("Microsoft.ML.SchemaShape.Create(DataViewSchema) was not found in this ML.NET version.");

    public static SchemaShape FromSchema(DataViewSchema schema) => (SchemaShape)Create.Invoke(null, [schema])!;
}
