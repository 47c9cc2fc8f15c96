namespace Notifications.Hosting.Processes;

/// <summary>Writes children's output lines to one console, each prefixed with the resource name.</summary>
public sealed class ResourceOutput(TextWriter writer)
{
    private readonly Lock _gate = new();

    public void WriteLine(string resourceName, string line)
    {
        lock (_gate)
        {
            writer.Write('[');
            writer.Write(resourceName);
            writer.Write("] ");
            writer.WriteLine(line);
            writer.Flush();
        }
    }
}
