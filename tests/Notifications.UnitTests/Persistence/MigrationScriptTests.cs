using Notifications.Domain.Persistence.Migrations;

namespace Notifications.UnitTests.Persistence;

public sealed class MigrationScriptTests
{
    [Fact]
    public void FromFile_VersionedName_ParsesVersionAndName()
    {
        var script = MigrationScript.FromFile("0012_add_push_channel.sql", "SELECT 1;");

        Assert.Equal(12, script.Version);
        Assert.Equal("0012_add_push_channel", script.Name);
    }

    [Theory]
    [InlineData("add_push_channel.sql")]
    [InlineData("0000_zero.sql")]
    [InlineData("v1_add.sql")]
    public void FromFile_NameWithoutPositiveVersion_FailsNamingTheFile(string fileName)
    {
        var error = Assert.Throws<InvalidOperationException>(() => MigrationScript.FromFile(fileName, "SELECT 1;"));

        Assert.Contains(fileName, error.Message);
    }

    [Fact]
    public void Checksum_IgnoresLineEndingsButNotContent()
    {
        var unix = MigrationScript.FromFile("0001_a.sql", "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n");
        var windows = MigrationScript.FromFile("0001_a.sql", "CREATE TABLE a (id int);\r\nCREATE TABLE b (id int);\r\n");
        var edited = unix with { Sql = unix.Sql + "CREATE TABLE c (id int);\n" };

        Assert.Equal(unix.Checksum, windows.Checksum);
        Assert.NotEqual(unix.Checksum, edited.Checksum);
    }

    [Fact]
    public void EmbeddedMigrations_AreOrderedByVersionAndStartWithTheCoreSchema()
    {
        var scripts = EmbeddedMigrations.All;

        Assert.Equal("0001_create_core_schema", scripts[0].Name);
        Assert.Equal(scripts.OrderBy(script => script.Version), scripts);
        Assert.Equal(scripts.Count, scripts.Select(script => script.Version).Distinct().Count());
        Assert.Same(scripts[^1], EmbeddedMigrations.Latest);
    }
}
