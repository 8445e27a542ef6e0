/**
 * The port contract against a real 1Password account. Not part of any test tier or CI: it runs only
 * by its own command (docs/onepassword.md), with a service account token and test vaults given in
 * the environment. Without them it fails, naming what is missing, rather than passing vacuously.
 *
 * It creates one throwaway Login item in the managed vault, rotates it and sets its secret, shares it
 * (to the allowed recipient, one view, one hour), grants and revokes the group, and deletes the item at
 * the end. It also creates and deletes throwaway Database items (per-request logins) in that vault.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ItemCategory, ItemFieldType, Secrets } from '@1password/sdk';
import { loadLiveOnePasswordSettings } from '../../config/development';
import { registerOnePasswordContract } from '../../test/support/onepassword-contract';
import { SdkClientRegistry, serviceAccountClientFactory } from './client-registry';
import { BUSINESS_LIMITS, RateBudget, TEAMS_LIMITS } from './rate-budget';
import { OnePasswordSdkAdapter } from './sdk-adapter';

registerOnePasswordContract(
  'OnePasswordSdkAdapter against a live 1Password account',
  async () => {
    const settings = loadLiveOnePasswordSettings();
    const integration = 'live';
    const clients = new SdkClientRegistry(
      serviceAccountClientFactory(() => Promise.resolve(settings.OP_SERVICE_ACCOUNT_TOKEN)),
    );
    const sut = new OnePasswordSdkAdapter({
      integration,
      clients,
      budget: new RateBudget({ limits: settings.teams ? TEAMS_LIMITS : BUSINESS_LIMITS }),
      serviceAccountVaultIds: [settings.LATCHKEY_LIVE_VAULT],
    });

    const client = await clients.get(integration);
    const title = `latchkey live contract ${randomUUID()}`;
    const item = await client.items.create({
      category: ItemCategory.Login,
      vaultId: settings.LATCHKEY_LIVE_VAULT,
      title,
      tags: ['latchkey-live-test'],
      fields: [
        {
          id: 'password',
          title: 'password',
          fieldType: ItemFieldType.Concealed,
          value: Secrets.generatePassword({
            type: 'Random',
            parameters: { includeDigits: true, includeSymbols: false, length: 32 },
          }).password,
        },
      ],
    });

    return {
      sut,
      account: {
        item: { vaultId: item.vaultId, itemId: item.id, title, tags: ['latchkey-live-test'] },
        // 1Password ids are 26 lowercase base-32 characters; this one names nothing.
        missingItemId: randomBytes(16)
          .toString('hex')
          .slice(0, 26)
          .replace(/[0189]/g, 'a'),
        itemsVaultId: settings.LATCHKEY_LIVE_VAULT,
        managedVaultId: settings.LATCHKEY_LIVE_VAULT,
        unmanagedVaultId: settings.LATCHKEY_LIVE_UNMANAGED_VAULT,
        groupId: settings.LATCHKEY_LIVE_GROUP,
        allowedRecipient: settings.LATCHKEY_LIVE_RECIPIENT,
        refusedRecipient: settings.LATCHKEY_LIVE_REFUSED_RECIPIENT,
      },
      groupPermissions: (vaultId, groupId) => sut.groupPermissions(vaultId, groupId),
      dispose: () => client.items.delete(item.vaultId, item.id),
    };
  },
  { injectsFailures: false },
);
