/**
 * What we use of the SSM client, and nothing else: loaded on demand (`import('./ssmClient.js')`)
 * the first time an ECS Anywhere instance is seen. See ec2Client.ts.
 */
export { SSMClient, paginateDescribeInstanceInformation } from '@aws-sdk/client-ssm';
