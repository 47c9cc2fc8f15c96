using Microsoft.Extensions.Logging;
using Npgsql;

namespace Notifications.Domain.Persistence;

/// <summary>
/// Retries a start-up database operation while Postgres is reachable-but-not-ready (starting, recovering, database not
/// created yet, connection refused), for a bounded time, then lets the last error through.
/// </summary>
public static class DatabaseStartupRetry
{
    public static async Task<T> ExecuteAsync<T>(
        Func<CancellationToken, Task<T>> operation,
        TimeSpan timeout,
        TimeSpan delay,
        TimeProvider timeProvider,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        var deadline = timeProvider.GetUtcNow() + timeout;
        while (true)
        {
            try
            {
                return await operation(cancellationToken);
            }
            catch (Exception exception) when (IsNotReady(exception) && timeProvider.GetUtcNow() + delay < deadline)
            {
                PersistenceLog.DatabaseNotReady(logger, exception.Message, delay.TotalMilliseconds);
                await Task.Delay(delay, timeProvider, cancellationToken);
            }
        }
    }

    /// <summary>Errors that a database still starting up produces and that go away by themselves.</summary>
    public static bool IsNotReady(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.SqlState is
            PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.InvalidCatalogName or PostgresErrorCodes.TooManyConnections,
        NpgsqlException npgsql => npgsql.IsTransient,
        _ => false,
    };
}
