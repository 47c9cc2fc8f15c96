using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Notifications.Domain.Persistence.Migrations;

/// <summary>One versioned SQL script, named <c>NNNN_description.sql</c>.</summary>
public sealed record MigrationScript(int Version, string Name, string Sql)
{
    /// <summary>SHA-256 of the script with line endings normalised, so a checkout's line-ending setting does not change it.</summary>
    public string Checksum => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));

    /// <summary>Builds a script from its file name (<c>0001_create_core_schema.sql</c>) and text.</summary>
    public static MigrationScript FromFile(string fileName, string sql)
    {
        var name = Path.GetFileNameWithoutExtension(fileName);
        var separator = name.IndexOf('_');
        if (separator <= 0
            || !int.TryParse(name.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || version <= 0)
        {
            throw new InvalidOperationException(
                $"Migration script '{fileName}' must be named NNNN_description.sql with a positive version number.");
        }

        return new MigrationScript(version, name, sql);
    }

    public override string ToString() => Name;
}
