/** Access control: qtaccess files, DSS users/groups files, Basic and Digest checking. */
export {
  Authorizer,
  type Access,
  type AccessDecision,
  type AccessRequest,
  type AuthorizerOptions,
  type PublishAllow,
  type PublisherLogin,
  type PublisherLoginAnswer,
} from './authorizer.js';
export {
  formatBasicChallenge,
  formatDigestChallenge,
  parseAuthorization,
  parseAuthParams,
  type BasicCredentials,
  type Credentials,
  type DigestChallenge,
  type DigestCredentials,
} from './authorization-header.js';
export { hashPassword, verifyCrypt } from './crypt.js';
export { answerChallenge, type ChallengeAnswer } from './digest-client.js';
export { GroupsFileDoc, NO_GROUPS, parseGroupsFile, type GroupsFile } from './groups-file.js';
export { parseAccessFile, type AccessFile, type AccessRule } from './qtaccess.js';
export {
  checkBasicPassword,
  MAX_NAME,
  MAX_PASSWORD,
  NO_USERS,
  parseUsersFile,
  UsersFileDoc,
  type UsersFile,
  type UserEntry,
} from './users-file.js';
