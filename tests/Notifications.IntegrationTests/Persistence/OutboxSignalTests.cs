using Notifications.Domain.Persistence;
using Npgsql;
using static Notifications.Testing.TestDatabase;

namespace Notifications.IntegrationTests.Persistence;

/// <summary>How writers raise <see cref="OutboxSignal"/>, seen from a connection that LISTENs as a relay does.</summary>
[Collection(PersistencePostgresCollection.Name)]
public sealed class OutboxSignalTests(PostgresServerFixture postgres)
{
    private static CancellationToken CancellationToken => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RaiseOnCommit_ReachesListenersOnceWhenTheTransactionCommits_AndNotBefore()
    {
        var connectionString = await CreateMigratedDatabaseAsync(postgres);
        await using var listener = await OutboxSignalListener.StartAsync(connectionString);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(CancellationToken);

        await using (var transaction = await connection.BeginTransactionAsync(CancellationToken))
        {
            await OutboxSignal.RaiseOnCommitAsync(connection, transaction, CancellationToken);
            await OutboxSignal.RaiseOnCommitAsync(connection, transaction, CancellationToken);
            Assert.Equal(0, await listener.CountSignalsBeforeMarkerAsync());
            await transaction.CommitAsync(CancellationToken);
        }

        Assert.Equal(1, await listener.CountSignalsBeforeMarkerAsync());
    }

    [Fact]
    public async Task RaiseOnCommit_RolledBack_SignalsNoOne()
    {
        var connectionString = await CreateMigratedDatabaseAsync(postgres);
        await using var listener = await OutboxSignalListener.StartAsync(connectionString);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(CancellationToken);

        await using (var transaction = await connection.BeginTransactionAsync(CancellationToken))
        {
            await OutboxSignal.RaiseOnCommitAsync(connection, transaction, CancellationToken);
            await transaction.RollbackAsync(CancellationToken);
        }

        Assert.Equal(0, await listener.CountSignalsBeforeMarkerAsync());
    }

    [Fact]
    public async Task Raise_ReachesListenersAtOnce()
    {
        var connectionString = await CreateMigratedDatabaseAsync(postgres);
        await using var listener = await OutboxSignalListener.StartAsync(connectionString);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);

        await OutboxSignal.RaiseAsync(dataSource, CancellationToken);

        Assert.Equal(1, await listener.CountSignalsBeforeMarkerAsync());
    }
}
