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

    /// <summary>The column <paramref name="name"/> (playing <paramref name="role"/>) must exist and be a String scalar.</summary>
    public static SchemaShape.Column RequireText(SchemaShape shape, string name, string role)
    {
        var column = shape.FirstOrDefault(c => c.Name == name);
        if (column.Name is null) throw new ArgumentOutOfRangeException(role, $"{role} column '{name}' was not found in the input.");
        if (column.ItemType is not Microsoft.ML.Data.TextDataViewType || column.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw new ArgumentOutOfRangeException(role, $"{role} column '{name}' must be a String scalar, but is {column.ItemType}.");
        return column;
    }

    /// <summary><paramref name="shape"/> with a String column <paramref name="name"/> appended (replacing one of that name).</summary>
    public static SchemaShape WithTextColumn(SchemaShape shape, string name)
    {
        var probe = new DataViewSchema.Builder();
        probe.AddColumn(name, Microsoft.ML.Data.TextDataViewType.Instance);
        return new SchemaShape(shape.Where(c => c.Name != name).Concat(FromSchema(probe.ToSchema())));
    }
}
