using System.Security.Cryptography;

namespace Notifications.EmailWorker.Consuming;

/// <summary>
/// This worker's name among its replicas, e.g. <c>web-1-4242-9f3a1c</c>: the consumer name it reads its streams with
/// (host and process id for operators, random so that two workers in one process, or a restarted process that got the
/// same pid, never share one) and who reported a circuit's state.
/// </summary>
internal sealed class WorkerIdentity
{
    public string Name { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
}
