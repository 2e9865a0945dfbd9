/**
 * What we use of the EC2 client, and nothing else: loaded on demand (`import('./ec2Client.js')`)
 * the first time a task on an EC2 container instance is seen. Importing the package itself
 * dynamically would keep its every command in the bundle (a module namespace can be asked for
 * any of them); through this module, the bundler keeps these two.
 */
export { EC2Client, paginateDescribeInstances } from '@aws-sdk/client-ec2';
